package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The warehouse holds users' e-mails and rejected raw lines: its folder is
// 0700 and its file 0600, also when an earlier version made them 0755/0644.
func TestWarehouseIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".uptake")
	path := filepath.Join(dir, "warehouse.duckdb")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if p := perm(t, dir); p != 0o700 {
		t.Errorf(".uptake is %o, want 700", p)
	}
	if p := perm(t, path); p != 0o600 {
		t.Errorf("warehouse.duckdb is %o, want 600", p)
	}
	// As an earlier uptake left them.
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o644)
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if perm(t, dir) != 0o700 || perm(t, path) != 0o600 {
		t.Errorf("not tightened: %o %o", perm(t, dir), perm(t, path))
	}
	// A folder of the user's own, named in the config, is left as it is.
	own := filepath.Join(t.TempDir(), "data")
	os.Mkdir(own, 0o755)
	db, err = Open(context.Background(), Options{Path: filepath.Join(own, "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if perm(t, own) != 0o755 || perm(t, filepath.Join(own, "w.duckdb")) != 0o600 {
		t.Errorf("own folder %o, file %o", perm(t, own), perm(t, filepath.Join(own, "w.duckdb")))
	}
}
