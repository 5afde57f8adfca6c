package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
)

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// lookerCreateURL is the Looker Studio Linking API's entry point.
const lookerCreateURL = "https://lookerstudio.google.com/reporting/create"

func newLookerLinkCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "looker-link",
		Short: "Print a Looker Studio link that copies the template report onto the published tables",
		Long: `Prints a Looker Studio Linking API URL: opening it creates a copy of the
template report (looker_studio.template_report_id) whose data sources read the
tables uptake publishes to BigQuery or Google Sheets (looker_studio.data_sources).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			link, err := lookerLink(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), link)
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "uptake.yaml", "config file")
	return cmd
}

// lookerLink builds the URL: keys are written as they are (ds.<alias>.<param>),
// values are escaped.
func lookerLink(ctx context.Context, cfg *config.Config) (string, error) {
	ls := cfg.LookerStudio
	if ls.TemplateReportID == "" {
		return "", cfg.Errorf("looker_studio.template_report_id", "is required: the id of the report to copy (in its URL: /reporting/<id>)")
	}
	params := [][2]string{{"c.reportId", ls.TemplateReportID}}
	if ls.ReportName != "" {
		params = append(params, [2]string{"r.reportName", ls.ReportName})
	}
	aliases := make([]string, 0, len(ls.DataSources))
	for a := range ls.DataSources {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		src := ls.DataSources[alias]
		key := "looker_studio.data_sources." + alias
		if !aliasRE.MatchString(alias) {
			return "", cfg.Errorf(key, "alias %q must be a plain name such as ds0", alias)
		}
		linker, err := lookerLinker(cfg, src.Destination)
		if err != nil {
			return "", cfg.Errorf(key+".destination", "%v", err)
		}
		ds, err := linker.LookerDataSource(ctx, src.Table)
		if err != nil {
			return "", fmt.Errorf("data source %s: %w", alias, err)
		}
		names := make([]string, 0, len(ds))
		for k := range ds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			params = append(params, [2]string{"ds." + alias + "." + k, ds[k]})
		}
	}
	var b strings.Builder
	b.WriteString(lookerCreateURL)
	for i, p := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + url.QueryEscape(p[1]))
	}
	return b.String(), nil
}

func lookerLinker(cfg *config.Config, name string) (connectors.LookerLinker, error) {
	for _, p := range cfg.Destinations {
		if p.Name != name {
			continue
		}
		dst, err := connectors.NewDestination(p, cfg)
		if err != nil {
			return nil, err
		}
		l, ok := dst.(connectors.LookerLinker)
		if !ok {
			return nil, fmt.Errorf("destination %q (%s) is not one Looker Studio reads: use a bigquery or sheets destination", name, p.Kind)
		}
		return l, nil
	}
	return nil, fmt.Errorf("no destination named %q", name)
}
