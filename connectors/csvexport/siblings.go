package csvexport

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// lookalikes lists the files in the folders of a dataset's pattern that look
// like its export but that no configured pattern matches, so are not read:
// the pattern matched case-insensitively (Establishments_2026-09.CSV beside
// establishments_*.csv), or a name that starts like the pattern's and ends
// with its extension (establishments.csv, establishments-2026-09.csv).
// patterns are every dataset's pattern: a file another dataset reads is no
// lookalike.
func lookalikes(pattern string, patterns []string) []string {
	dirs := []string{filepath.Dir(pattern)}
	if hasMeta(dirs[0]) {
		dirs, _ = filepath.Glob(dirs[0])
	}
	base := filepath.Base(pattern)
	stem, ext := patternStem(base)
	var out []string
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // the glob reports a missing folder
		}
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || matchesAny(filepath.Join(dir, name), patterns) {
				continue
			}
			if looksLike(name, base, stem, ext) {
				out = append(out, filepath.Join(dir, name))
			}
		}
	}
	sort.Strings(out)
	return out
}

// patternStem is the literal start of a file name pattern, lower-cased and
// without trailing separators (establishments_*.csv → establishments), and
// its extension (.csv), if it has no wildcard.
func patternStem(base string) (stem, ext string) {
	if e := filepath.Ext(base); !hasMeta(e) {
		ext = strings.ToLower(e)
	}
	stem = strings.TrimSuffix(base, filepath.Ext(base))
	if i := strings.IndexAny(stem, `*?[\`); i >= 0 {
		stem = stem[:i]
	}
	return strings.ToLower(strings.TrimRight(stem, "_-. ")), ext
}

// looksLike tells whether a file name looks like the pattern base's.
func looksLike(name, base, stem, ext string) bool {
	lower := strings.ToLower(name)
	if ok, _ := filepath.Match(strings.ToLower(base), lower); ok {
		return true
	}
	return stem != "" && ext != "" && strings.HasPrefix(lower, stem) && strings.ToLower(filepath.Ext(name)) == ext
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func matchesAny(path string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, path); ok {
			return true
		}
	}
	return false
}

// lookalikeWarnings are the warnings naming the lookalikes of a dataset.
func (s *Source) lookalikeWarnings(ds dataset) []string {
	var patterns []string
	for _, d := range s.datasets() {
		patterns = append(patterns, d.cfg.Path)
	}
	var out []string
	for _, f := range lookalikes(ds.cfg.Path, patterns) {
		out = append(out, fmt.Sprintf("%s: %s is not read: it looks like one of the %s files but does not match %s.path %q (rename it, move it away, or widen the path)",
			s.name, f, ds.key, ds.key, ds.cfg.Path))
	}
	return out
}
