package csvexport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/uptake-dev/uptake/config"
	"github.com/uptake-dev/uptake/connectors"
	"github.com/uptake-dev/uptake/connectors/remote"
)

// RemoteDir is the folder, beside the warehouse, that holds the copies of
// remote export files.
const RemoteDir = "remote"

// validateRemote checks the remote paths of the source's datasets.
func validateRemote(p config.Plugin, spec Spec) []error {
	var errs []error
	someURL := false
	for _, kd := range []struct {
		key string
		d   Dataset
	}{{"establishments", spec.Establishments}, {"users", spec.Users}, {"activity", spec.Activity}, {"orders", spec.Orders}} {
		key, d := kd.key, kd.d
		if !remote.IsRemote(d.Path) {
			continue
		}
		someURL = true
		loc, err := remote.Parse(d.Path)
		if err != nil {
			errs = append(errs, p.PluginErrorf(key+".path", "%s.path: %v", key, err))
			continue
		}
		if loc.Scheme == "sftp" && loc.User == "" {
			errs = append(errs, p.PluginErrorf(key+".path", "%s.path: %q: no user name: put it in the URL (sftp://user@%s/...)", key, loc.Redacted(), loc.Host))
		}
	}
	r := spec.Remote
	if r.PrivateKey != "" && r.KeyFile != "" {
		errs = append(errs, p.PluginErrorf("remote.key_file", "remote: set private_key or key_file, not both"))
	}
	if r.HostKey != "" && !strings.HasPrefix(r.HostKey, "SHA256:") {
		errs = append(errs, p.PluginErrorf("remote.host_key", "remote.host_key must be a SHA256 fingerprint as ssh-keygen -l prints it (SHA256:...), not %q", r.HostKey))
	}
	if r.Timeout < 0 {
		errs = append(errs, p.PluginErrorf("remote.timeout", "remote.timeout must not be negative"))
	}
	if !someURL && !isZeroSettings(spec.Remote) {
		errs = append(errs, p.PluginErrorf("remote", "remote: is set but no path is a URL (gs://, sftp:// or https://)"))
	}
	return errs
}

func isZeroSettings(s remote.Settings) bool {
	return s.CredentialsFile == "" && s.Endpoint == "" && s.Password == "" && s.PrivateKey == "" && s.KeyFile == "" &&
		s.KeyPassphrase == "" && s.KnownHosts == "" && s.HostKey == "" && len(s.Headers) == 0 && s.CAFile == "" && s.Timeout == 0
}

// fetched is a remote dataset's local copy.
type fetched struct {
	// loc is the path as configured.
	loc remote.Location
	// others are the names in the remote folder the pattern did not match.
	others []string
}

// fetchRemote brings the local copies of the remote datasets' files up to
// date, and points those datasets at their copies. A dataset whose fetch
// failed is left out, its error returned: the run fails before it
// publishes, and the copies and the warehouse keep what the last run read.
// Without a FileStore (uptake validate), the copies go to a folder of
// their own, removed after the run's Extract (see Source.Extract).
func (s *Source) fetchRemote(ctx context.Context, run connectors.Run, sets []dataset, root string) ([]dataset, error) {
	var kept []dataset
	var errs []error
	unreachable := map[string]string{}  // server → the first dataset that could not connect to it
	stores := map[string]remote.Store{} // folder → its store, shared by the datasets of one folder
	defer func() {
		for _, st := range stores {
			st.Close()
		}
	}()
	m := &remote.Mirror{Root: root, Log: run.Logger, Retry: s.remoteRetry}
	for _, ds := range sets {
		if !remote.IsRemote(ds.cfg.Path) {
			kept = append(kept, ds)
			continue
		}
		loc, err := remote.Parse(ds.cfg.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s.path: %w", s.name, ds.key, err))
			continue
		}
		server := loc.Scheme + "://" + loc.User + "@" + loc.Host
		if first, ok := unreachable[server]; ok {
			errs = append(errs, fmt.Errorf("%s: %s.path %s: not fetched: its server could not be reached for %s.path", s.name, ds.key, loc.Redacted(), first))
			continue
		}
		folder := server + "/" + loc.Dir + "?" + loc.Query
		st := stores[folder]
		if st == nil {
			if st, err = m.Open(ctx, loc, s.spec.Remote); err != nil {
				unreachable[server] = ds.key
				errs = append(errs, fmt.Errorf("%s: %s.path: %w (nothing was published; the copies of earlier runs are kept)", s.name, ds.key, err))
				continue
			}
			stores[folder] = st
		}
		synced, err := m.Sync(ctx, st, loc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s.path: %w (nothing was published; the copies of earlier runs are kept)", s.name, ds.key, err))
			continue
		}
		run.Logger.Info("remote files", "source", s.name, "dataset", ds.key, "url", loc.Redacted(),
			"fetched", synced.Fetched, "unchanged", synced.Unchanged, "removed", synced.Removed)
		ds.remote = &fetched{loc: loc, others: synced.Others}
		ds.cfg.Path = synced.Pattern
		kept = append(kept, ds)
	}
	return kept, errors.Join(errs...)
}

// remoteLookalikes are the warnings naming the files of a remote dataset's
// folder that look like its export but that its pattern does not match
// (see lookalikes, for local files).
func (s *Source) remoteLookalikes(ds dataset, sets []dataset) []string {
	loc := ds.remote.loc
	base := loc.Pattern
	stem, ext := patternStem(base)
	var out []string
	for _, name := range ds.remote.others {
		if readByAnother(loc, name, sets) || !looksLike(name, base, stem, ext) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s is not read: it looks like one of the %s files but does not match %s.path %q (rename it, move it away, or widen the path)",
			s.name, loc.FileURL(name), ds.key, ds.key, loc.Redacted()))
	}
	return out
}

// readByAnother tells whether another remote dataset of the same folder
// reads the file name.
func readByAnother(loc remote.Location, name string, sets []dataset) bool {
	for _, d := range sets {
		if d.remote == nil {
			continue
		}
		other := d.remote.loc
		if other.Scheme != loc.Scheme || other.Host != loc.Host || other.Dir != loc.Dir {
			continue
		}
		if ok, _ := path.Match(other.Pattern, name); ok {
			return true
		}
	}
	return false
}

// remoteRootFor is the folder of remote copies for a warehouse file.
func remoteRootFor(warehouse string) string {
	if warehouse == "" || strings.HasPrefix(warehouse, ":memory:") {
		return filepath.Join(os.TempDir(), "uptake-"+RemoteDir)
	}
	return filepath.Join(filepath.Dir(warehouse), RemoteDir)
}
