// Package all imports every connector so that each registers its kind.
package all

import (
	_ "github.com/uptake-dev/uptake/connectors/bigquery"     // bigquery destination
	_ "github.com/uptake-dev/uptake/connectors/csvexport"    // csvexport source
	_ "github.com/uptake-dev/uptake/connectors/files"        // files destination
	_ "github.com/uptake-dev/uptake/connectors/ga4"          // ga4 source (Data API)
	_ "github.com/uptake-dev/uptake/connectors/ga4bigquery"  // ga4_bigquery source (the GA4 export)
	_ "github.com/uptake-dev/uptake/connectors/ga4file"      // ga4_export_file source (the GA4 export, local files)
	_ "github.com/uptake-dev/uptake/connectors/remote/gcs"   // gs:// export paths
	_ "github.com/uptake-dev/uptake/connectors/remote/https" // https:// export paths
	_ "github.com/uptake-dev/uptake/connectors/remote/sftp"  // sftp:// export paths
	_ "github.com/uptake-dev/uptake/connectors/sheets"       // sheets destination
)
