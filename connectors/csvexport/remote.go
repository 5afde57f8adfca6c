package csvexport

import (
	"context"
	"errors"
	"fmt"
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
	any := false
	for _, kd := range []struct {
		key string
		d   Dataset
	}{{"establishments", spec.Establishments}, {"users", spec.Users}, {"activity", spec.Activity}, {"orders", spec.Orders}} {
		key, d := kd.key, kd.d
		if !remote.IsRemote(d.Path) {
			continue
		}
		any = true
		if _, err := remote.Parse(d.Path); err != nil {
			errs = append(errs, p.PluginErrorf(key+".path", "%s.path: %v", key, err))
		}
	}
	if !any && !isZeroSettings(spec.Remote) {
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
	// url is the path as configured.
	url string
	// others are the names in the remote folder the pattern did not match.
	others []string
}

// fetchRemote brings the local copies of the remote datasets' files up to
// date, and points those datasets at their copies. A dataset whose fetch
// failed is left out, its error returned: the run fails, and the copies and
// the warehouse keep what the last run read.
func (s *Source) fetchRemote(ctx context.Context, run connectors.Run, sets []dataset) ([]dataset, error) {
	var kept []dataset
	var errs []error
	failed := map[string]string{} // server → the first dataset whose fetch from it failed
	for _, ds := range sets {
		if !remote.IsRemote(ds.cfg.Path) {
			kept = append(kept, ds)
			continue
		}
		server := serverOf(ds.cfg.Path)
		if first, ok := failed[server]; ok {
			errs = append(errs, fmt.Errorf("%s: %s.path: not fetched: its server failed for %s.path", s.name, ds.key, first))
			continue
		}
		synced, err := s.sync(ctx, run, ds.cfg.Path)
		if err != nil {
			if !errors.Is(err, remote.ErrNoMatch) {
				failed[server] = ds.key
			}
			errs = append(errs, fmt.Errorf("%s: %s.path: %w (nothing was read or published; the copies of earlier runs are kept)", s.name, ds.key, err))
			continue
		}
		run.Logger.Info("remote files", "source", s.name, "dataset", ds.key, "url", ds.cfg.Path,
			"fetched", synced.Fetched, "unchanged", synced.Unchanged, "removed", synced.Removed)
		ds.remote = &fetched{url: ds.cfg.Path, others: synced.Others}
		ds.cfg.Path = synced.Pattern
		kept = append(kept, ds)
	}
	return kept, errors.Join(errs...)
}

func (s *Source) sync(ctx context.Context, run connectors.Run, url string) (remote.Synced, error) {
	loc, err := remote.Parse(url)
	if err != nil {
		return remote.Synced{}, err
	}
	st, err := remote.Open(ctx, loc, s.spec.Remote)
	if err != nil {
		return remote.Synced{}, err
	}
	defer st.Close()
	m := &remote.Mirror{Root: s.remoteRoot, Log: run.Logger, Retry: s.remoteRetry}
	return m.Sync(ctx, st, loc)
}

// serverOf names the server of a remote path (scheme, user and host).
func serverOf(url string) string {
	loc, err := remote.Parse(url)
	if err != nil {
		return url
	}
	return loc.Scheme + "://" + loc.User + "@" + loc.Host
}

// remoteLookalikes are the warnings naming the files of a remote dataset's
// folder that look like its export but that its pattern does not match
// (see lookalikes, for local files).
func (s *Source) remoteLookalikes(ds dataset, sets []dataset) []string {
	loc, err := remote.Parse(ds.remote.url)
	if err != nil {
		return nil
	}
	base := loc.Pattern
	stem, ext := patternStem(base)
	var out []string
	for _, name := range ds.remote.others {
		if readByAnother(loc, name, sets) || !looksLike(name, base, stem, ext) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s is not read: it looks like one of the %s files but does not match %s.path %q (rename it, move it away, or widen the path)",
			s.name, loc.FileURL(name), ds.key, ds.key, ds.remote.url))
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
		other, err := remote.Parse(d.remote.url)
		if err != nil || other.Scheme != loc.Scheme || other.Host != loc.Host || other.Dir != loc.Dir {
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
		return ""
	}
	return filepath.Join(filepath.Dir(warehouse), RemoteDir)
}
