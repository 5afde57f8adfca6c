package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/config/starter"
	"github.com/uptake-dev/uptake/etl"
)

func newInitCmd() *cobra.Command {
	var out string
	var force bool
	var s starter.Setup
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented config for your setup (asks, or takes flags), every secret as ${VAR}",
		Example: `  uptake init                                   # asks
  uptake init --exports sftp --exports-at sftp://uptake@sftp.example.com/out --bigquery-project acme
  uptake init --exports local --exports-at testdata/sample --out /tmp/uptake.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if !anySetupFlag(cmd) {
				if err := ask(cmd.InOrStdin(), w, &s); err != nil {
					return err
				}
			}
			s.BigQuery = s.BigQuery || s.BigQueryProject != ""
			s.Sheets = s.Sheets || s.SpreadsheetID != ""
			if s.Exports == "" {
				s.Exports = "local"
			}
			if s.GA4 == "" {
				s.GA4 = "none"
			}
			text, err := s.Render()
			if err != nil {
				return err
			}
			if err := writeConfig(out, text, force); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s\n", out)
			return nextSteps(w, out, s)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "uptake.yaml", "the config file to write")
	f.BoolVar(&force, "force", false, "replace the file if it exists")
	f.StringVar(&s.Exports, "exports", "", "where the platform's exports are: local, gcs, sftp or https")
	f.StringVar(&s.ExportsAt, "exports-at", "", "their folder, or the URL of it (gs://bucket/folder, sftp://user@host/folder, https://host/folder)")
	f.StringVar(&s.GA4, "ga4", "", "the web shop's Google Analytics 4: none, api (Data API) or export (GA4 export in BigQuery)")
	f.StringVar(&s.GA4Property, "ga4-property", "", "GA4 property id (needed with --ga4 api)")
	f.StringVar(&s.GA4Project, "ga4-project", "", "project of the GA4 export (--ga4 export)")
	f.StringVar(&s.GA4Dataset, "ga4-dataset", "", "dataset of the GA4 export, analytics_<property id> (needed with --ga4 export)")
	f.StringVar(&s.BigQueryProject, "bigquery-project", "", "publish to BigQuery, in this project")
	f.StringVar(&s.BigQueryDataset, "bigquery-dataset", "", "the BigQuery dataset (default uptake)")
	f.StringVar(&s.SpreadsheetID, "sheets", "", "publish to Google Sheets, in the spreadsheet with this id")
	return cmd
}

// writeConfig writes the config at path, refusing to replace a file
// unless force (created exclusively: no other process's file is lost).
func writeConfig(path string, text []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: choose another --out, or --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setupFlags are the flags that describe the setup: with any of them,
// init asks nothing.
var setupFlags = []string{"exports", "exports-at", "ga4", "ga4-property", "ga4-project", "ga4-dataset", "bigquery-project", "bigquery-dataset", "sheets"}

func anySetupFlag(cmd *cobra.Command) bool {
	for _, name := range setupFlags {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// ask fills s from the answers read from in, one a line; an empty answer
// (or the end of input) takes the default shown in brackets.
func ask(in io.Reader, w io.Writer, s *starter.Setup) error {
	r := bufio.NewReader(in)
	f, isFile := in.(*os.File)
	echo := !isFile || !term.IsTerminal(int(f.Fd())) // answers piped in are shown
	q := func(question, def string, choices []string) (string, error) {
		for {
			fmt.Fprintf(w, "%s [%s]: ", question, def)
			line, err := r.ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
			answer := strings.TrimSpace(line)
			if echo {
				fmt.Fprintln(w, answer)
			}
			if answer == "" {
				answer = def
			}
			if answer == "" { // no default: an answer is needed
				if errors.Is(err, io.EOF) {
					return "", fmt.Errorf("%s: no answer", question)
				}
				continue
			}
			if len(choices) == 0 || containsFold(choices, answer) {
				if len(choices) > 0 {
					answer = strings.ToLower(answer)
				}
				return answer, nil
			}
			fmt.Fprintf(w, "  one of: %s\n", strings.Join(choices, ", "))
			if errors.Is(err, io.EOF) {
				return "", fmt.Errorf("%s: %q is not one of %s", question, answer, strings.Join(choices, ", "))
			}
		}
	}
	var err error
	if s.Exports, err = q("Where does the platform drop its exports? local, gcs, sftp or https", "local", starter.ExportsChoices); err != nil {
		return err
	}
	if s.Exports == "local" {
		s.ExportsAt, err = q("Their folder", "exports", nil)
	} else {
		example := map[string]string{"gcs": "gs://bucket/folder", "sftp": "sftp://user@host/folder", "https": "https://host/folder"}[s.Exports]
		s.ExportsAt, err = q("Their folder's URL, like "+example, starter.ChangeMe, nil)
		if s.ExportsAt == starter.ChangeMe {
			s.ExportsAt = ""
		}
	}
	if err != nil {
		return err
	}
	if s.GA4, err = q("Google Analytics 4 of the web shop? none, api (Data API) or export (its BigQuery export)", "none", starter.GA4Choices); err != nil {
		return err
	}
	switch s.GA4 {
	case "api":
		if s.GA4Property, err = q("GA4 property id (a number: Admin > Property details)", "", nil); err != nil {
			return err
		}
	case "export":
		if s.GA4Project, err = q("Project of the GA4 export", starter.ChangeMe, nil); err != nil {
			return err
		}
		if s.GA4Dataset, err = q("Dataset of the GA4 export (analytics_<property id>)", "", nil); err != nil {
			return err
		}
	}
	if s.BigQueryProject, err = q("Publish to BigQuery? its project, or none", "none", nil); err != nil {
		return err
	}
	if s.BigQueryProject == "none" {
		s.BigQueryProject = ""
	}
	if s.SpreadsheetID, err = q("Publish to Google Sheets? the spreadsheet id, or none", "none", nil); err != nil {
		return err
	}
	if s.SpreadsheetID == "none" {
		s.SpreadsheetID = ""
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// nextSteps checks the written config as `validate --config-only` does
// (with the environment it needs) and says what to do next.
func nextSteps(w io.Writer, path string, s starter.Setup) error {
	env := s.Env()
	for _, name := range env {
		if _, ok := os.LookupEnv(name); !ok {
			os.Setenv(name, "set-me") // only to check the rest of the config
			defer os.Unsetenv(name)
		}
	}
	cfg, err := config.Load(path)
	if err == nil {
		_, err = etl.CheckConfig(cfg)
	}
	if err != nil {
		printProblems(w, path, err)
		fmt.Fprintf(w, "fix them in %s (or run uptake init --force again), then: uptake validate --config-only --config %s\n", path, path)
		return exitError{code: 1}
	}
	fmt.Fprintln(w, "next:")
	step := 1
	if text, _ := os.ReadFile(path); strings.Contains(string(text), starter.ChangeMe) {
		fmt.Fprintf(w, "  %d. replace every %s in %s\n", step, starter.ChangeMe, path)
		step++
	}
	if len(env) > 0 {
		fmt.Fprintf(w, "  %d. set the secrets in the environment: %s\n", step, strings.Join(env, ", "))
		step++
	}
	fmt.Fprintf(w, "  %d. uptake validate --config %s   (reads every input, publishes nothing)\n", step, path)
	fmt.Fprintf(w, "  %d. uptake run --config %s\n", step+1, path)
	return nil
}
