package connectors

import (
	"context"
	"database/sql/driver"
	"time"
)

// RowWriter is how a source hands the engine rows it read outside DuckDB
// (an API's answer, a line map): the engine appends them, with DuckDB's
// appender, to a connection-local table the source made (with the columns
// of a contract table: see sql.TempTable). Values follow the table's
// column order; a float or decimal text for a DECIMAL column is rounded
// to its scale.
type RowWriter interface {
	Append(ctx context.Context, table string, rows [][]driver.Value) error
}

// FileStore keeps, across runs, what a source read from each input file, so
// that an export file is parsed once: a run reads again only the files that
// changed (size, modification time, then content) or that it reads another
// way (another config, another uptake). The engine owns it (Run.Files); a
// source without one reads every file into connection-local tables, as
// `uptake validate` does.
type FileStore interface {
	// Open looks path up. The version it returns has Kept set when an
	// earlier run read the same content the same way; else the source reads
	// the file into the table named Scan and calls Keep.
	Open(ctx context.Context, key FileKey) (*FileVersion, error)
	// Keep keeps what the source read from v: the store makes the
	// relation of the file's rows in the contract's columns (a view over
	// v.Scan, or a table, which drops v.Scan) and, once the run's sources
	// have all run, records the file with its rejects, which must stay in
	// temp.load_rejects until then. It returns the relation's name.
	Keep(ctx context.Context, v *FileVersion, k KeepSpec) (string, error)
}

// FileKey names one input file of a source, and how the source reads it.
type FileKey struct {
	// Source is the source's name in the config.
	Source string
	// Table is the raw contract table the file's rows go to.
	Table string
	// Path is the file, as the source found it.
	Path string
	// Reading digests everything that shapes the rows read from the file
	// (the source's settings for it, its reader's version): a change reads
	// the file again.
	Reading string
	// Appends says the source reads each record of the file on its own (no
	// rule spans records): a version that extends a kept one by whole lines
	// may then be read from where the kept one ended (FileVersion.Grown).
	Appends bool
}

// FileVersion is one version of an input file, as a run found it.
type FileVersion struct {
	Key FileKey
	// Size, ModTime and SHA256 tell this version from another.
	Size    int64
	ModTime time.Time
	SHA256  string
	// Kept is what an earlier run read from this version; nil when the
	// source must read it.
	Kept *KeptFile
	// Scan is the table, in the store's schema, that a source reading the
	// file creates its rows in (its own columns).
	Scan string
	// Grown is set when this version is a kept one (Growth.Kept) followed
	// by more lines, and the source may read only those (FileKey.Appends):
	// its Keep then hands the store the rows of the lines after
	// Growth.Offset, and the store makes the file's relation of both. A
	// source that cannot read them alone sets Grown to nil and reads the
	// whole file into Scan instead.
	Grown *Growth
}

// Growth is the kept version a grown file starts with.
type Growth struct {
	// Offset is the kept version's size in bytes: it ends with a line
	// break, and the new lines start there.
	Offset int64
	// Kept is what an earlier run read from it.
	Kept KeptFile
}

// KeptFile is what a run read from one version of a file.
type KeptFile struct {
	// Relation holds the file's rows in the contract's columns.
	Relation string
	// Rows kept, data rows read (rejected ones included), physical lines
	// rejected.
	Rows, Read, Rejected int64
}

// KeepSpec is what a source hands to FileStore.Keep.
type KeepSpec struct {
	// Select turns the rows of FileVersion.Scan into the contract's columns.
	Select string
	// Materialize makes the relation a table (the scan table is then
	// dropped); else it is a view over the scan table. A select that reads
	// connection-local tables (line maps) must be materialized.
	Materialize bool
	// Rows, Read and Rejected are recorded as KeptFile's (for a grown
	// version, those of the new lines: the store adds the kept ones).
	Rows, Read, Rejected int64
	// Extendable says a later run may read only the lines this version
	// gains (FileKey.Appends): the source read it as it would read those
	// lines alone (no reject, an encoding a continuation is read in alone).
	Extendable bool
}
