package sftp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/uptake-dev/uptake/connectors/backoff"
	"github.com/uptake-dev/uptake/connectors/remote"
	_ "github.com/uptake-dev/uptake/connectors/remote/sftp"
	"github.com/uptake-dev/uptake/connectors/remote/sftp/sftpserver"
)

// env is a server serving a folder, a mirror, and the settings to reach the
// server (known_hosts with its key, the password and a key).
type env struct {
	srv      *sftpserver.Server
	root     string // the folder the server serves
	mirror   *remote.Mirror
	settings remote.Settings
	keyPEM   string
}

const (
	user     = "bob"
	password = "s3cret"
)

func newEnv(t *testing.T, cfg sftpserver.Config) *env {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "exports"), 0o755); err != nil {
		t.Fatal(err)
	}
	keyPEM, pub := sftpserver.NewKey(t, "")
	cfg.Root, cfg.User, cfg.Password = root, user, password
	cfg.AuthorizedKeys = append(cfg.AuthorizedKeys, pub)
	srv := sftpserver.Start(t, cfg)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, []byte(srv.KnownHostsLine()+"\n"), time.Now())
	return &env{
		srv:  srv,
		root: root,
		mirror: &remote.Mirror{
			Root:  t.TempDir(),
			Retry: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 3},
		},
		settings: remote.Settings{Password: password, KnownHosts: kh, Timeout: 5 * time.Second},
		keyPEM:   keyPEM,
	}
}

func (e *env) url(pattern string) string {
	return fmt.Sprintf("sftp://%s@%s/exports/%s", user, e.srv.Addr, pattern)
}

// put writes a file of the served folder, dated mtime.
func (e *env) put(t *testing.T, name string, content []byte, mtime time.Time) {
	t.Helper()
	writeFile(t, filepath.Join(e.root, "exports", name), content, mtime)
}

// open connects to url with settings s.
func open(t *testing.T, url string, s remote.Settings) (remote.Location, remote.Store, error) {
	t.Helper()
	loc, err := remote.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	st, err := remote.Open(context.Background(), loc, s)
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return loc, st, err
}

// sync opens url and syncs the mirror with it.
func (e *env) sync(t *testing.T, url string, s remote.Settings) (remote.Synced, error) {
	t.Helper()
	loc, st, err := open(t, url, s)
	if err != nil {
		return remote.Synced{}, err
	}
	return e.mirror.Sync(context.Background(), st, loc)
}

func writeFile(t *testing.T, p string, b []byte, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// copies are the mirror's files (name → content) under dir, and the names
// in its .partial folder.
func copies(t *testing.T, m *remote.Mirror, dir string) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	var partial []string
	pe, _ := os.ReadDir(filepath.Join(m.Root, ".partial"))
	for _, e := range pe {
		partial = append(partial, e.Name())
	}
	return out, partial
}

func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\ndoes not mention %q", err, p)
		}
	}
}

func TestSyncFetchesNewAndChangedFilesOnly(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	small, big := []byte("id,day\n1,2025-03-01\n"), randomBytes(300_000, 1)
	e.put(t, "a_1.csv", small, t0)
	e.put(t, "a_2.csv", big, t0)
	e.put(t, "b.csv", []byte("not matched\n"), t0)
	writeFile(t, filepath.Join(e.root, "target.csv"), []byte("through a link\n"), t0)
	if err := os.Symlink("../target.csv", filepath.Join(e.root, "exports", "a_3.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.root, "exports", "a_dir.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a_dir.csv", filepath.Join(e.root, "exports", "a_dirlink.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(e.root, "exports", "a_dangling.csv")); err != nil {
		t.Fatal(err)
	}
	url := e.url("a_*.csv")

	got, err := e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fetched != 3 || got.Unchanged != 0 || got.Removed != 0 || !slices.Equal(got.Others, []string{"b.csv"}) {
		t.Fatalf("first sync: %+v, want 3 fetched and b.csv in Others", got)
	}
	files, partial := copies(t, e.mirror, got.Dir)
	want := map[string]string{"a_1.csv": string(small), "a_2.csv": string(big), "a_3.csv": "through a link\n"}
	if len(files) != len(want) || len(partial) != 0 {
		t.Fatalf("copies %v, partial %v; want %v", keys(files), partial, keys(want))
	}
	for name, content := range want {
		if files[name] != content {
			t.Errorf("copy of %s: %d bytes, not the %d of the file", name, len(files[name]), len(content))
		}
	}
	if fi, err := os.Stat(filepath.Join(got.Dir, "a_1.csv")); err != nil || !fi.ModTime().Equal(t0) {
		t.Errorf("copy of a_1.csv dated %v (%v), want the server's %v", fi.ModTime(), err, t0)
	}
	if matches, _ := filepath.Glob(got.Pattern); len(matches) != 3 {
		t.Errorf("Pattern %s matches %v", got.Pattern, matches)
	}

	got, err = e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fetched != 0 || got.Unchanged != 3 || got.Removed != 0 {
		t.Fatalf("second sync: %+v, want all 3 unchanged", got)
	}
	if n := e.srv.Opens("exports/a_2.csv"); n != 1 {
		t.Errorf("a_2.csv opened %d times, want once", n)
	}

	changed := []byte("id,day\n1,2025-03-01\n2,2025-03-02\n")
	e.put(t, "a_1.csv", changed, t0.Add(time.Hour))
	if err := os.Remove(filepath.Join(e.root, "exports", "a_2.csv")); err != nil {
		t.Fatal(err)
	}
	got, err = e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fetched != 1 || got.Unchanged != 1 || got.Removed != 1 {
		t.Fatalf("third sync: %+v, want 1 fetched, 1 unchanged, 1 removed", got)
	}
	files, _ = copies(t, e.mirror, got.Dir)
	if files["a_1.csv"] != string(changed) {
		t.Errorf("changed a_1.csv: copy holds %q", files["a_1.csv"])
	}
	if _, ok := files["a_2.csv"]; ok {
		t.Error("the copy of the removed a_2.csv is still there")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWrongHostKeyFetchesNothing: a host key other than the one known or
// pinned stops before logging in; the copies fetched before stay as they
// were.
func TestWrongHostKeyFetchesNothing(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "a.csv", []byte("v1\n"), time.Now().Add(-time.Hour))
	url := e.url("*.csv")
	first, err := e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	e.put(t, "a.csv", []byte("v2, not to be fetched\n"), time.Now())
	logins := e.srv.Logins()

	_, other := sftpserver.NewKey(t, "")
	otherKH := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, otherKH, []byte(knownhosts.Line([]string{knownhosts.Normalize(e.srv.Addr)}, other)+"\n"), time.Now())
	pinOther := e.settings
	pinOther.HostKey = ssh.FingerprintSHA256(other)
	khOther := e.settings
	khOther.KnownHosts = otherKH
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := ssh.NewPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	otherKindKH := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, otherKindKH, []byte("# another kind of key\n"+knownhosts.Line([]string{knownhosts.Normalize(e.srv.Addr)}, ecPub)+"\n"), time.Now())
	khOtherKind := e.settings
	khOtherKind.KnownHosts = otherKindKH

	for name, c := range map[string]struct {
		s    remote.Settings
		want []string
	}{
		"known_hosts":               {khOther, []string{"host key mismatch", e.srv.Addr, e.srv.Fingerprint(), ssh.FingerprintSHA256(other), otherKH + ":1"}},
		"known_hosts, another kind": {khOtherKind, []string{"host key mismatch", e.srv.Fingerprint(), "ecdsa-sha2-nistp256 " + ssh.FingerprintSHA256(ecPub), otherKindKH + ":2"}},
		"pinned":                    {pinOther, []string{"host key mismatch", e.srv.Addr, e.srv.Fingerprint(), "remote.host_key pins " + ssh.FingerprintSHA256(other)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.sync(t, url, c.s)
			mustContain(t, err, c.want...)
			if !remote.IsPermanent(err) {
				t.Errorf("not permanent: %v", err)
			}
			t.Log(err)
		})
	}
	if n := e.srv.Logins(); n != logins {
		t.Errorf("%d logins with a wrong host key", n-logins)
	}
	if n := e.srv.Opens("exports/a.csv"); n != 1 {
		t.Errorf("a.csv opened %d times, want once (the first sync)", n)
	}
	files, partial := copies(t, e.mirror, first.Dir)
	if files["a.csv"] != "v1\n" || len(partial) != 0 {
		t.Errorf("copies now %v, partial %v", files, partial)
	}
}

func TestHostNotInKnownHosts(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	_, other := sftpserver.NewKey(t, "")
	writeFile(t, kh, []byte(knownhosts.Line([]string{"elsewhere.example"}, other)+"\n"), time.Now())
	s := e.settings
	s.KnownHosts = kh
	_, _, err := open(t, e.url("*.csv"), s)
	_, port, _ := strings.Cut(e.srv.Addr, ":")
	mustContain(t, err, "is not in the known_hosts file "+kh, e.srv.Fingerprint(), "ssh-keyscan -p "+port+" 127.0.0.1 >> "+kh)
	if !remote.IsPermanent(err) {
		t.Errorf("not permanent: %v", err)
	}
	t.Log(err)
}

func TestMissingKnownHosts(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	s := e.settings
	s.KnownHosts = filepath.Join(t.TempDir(), "nope", "known_hosts")
	_, _, err := open(t, e.url("*.csv"), s)
	_, port, _ := strings.Cut(e.srv.Addr, ":")
	mustContain(t, err, "known_hosts file "+s.KnownHosts+" does not exist", "ssh-keyscan -p "+port+" 127.0.0.1 >> "+s.KnownHosts, "remote.host_key")
	if !remote.IsPermanent(err) {
		t.Errorf("not permanent: %v", err)
	}
	if e.srv.Logins() != 0 {
		t.Error("logged in without a host key to check")
	}
	t.Log(err)

	t.Setenv("HOME", t.TempDir())
	s.KnownHosts = ""
	_, _, err = open(t, e.url("*.csv"), s)
	mustContain(t, err, filepath.Join(os.Getenv("HOME"), ".ssh", "known_hosts")+" does not exist")
}

// TestHostKeyKinds: a server with an ECDSA and an ed25519 host key is
// accepted whichever of the two known_hosts lists or host_key pins
// (x/crypto asks for ECDSA first unless told otherwise).
func TestHostKeyKinds(t *testing.T) {
	e := newEnv(t, sftpserver.Config{ECDSAHostKey: true})
	e.put(t, "a.csv", []byte("x\n"), time.Now())
	addr := knownhosts.Normalize(e.srv.Addr)
	for name, s := range map[string]func(s *remote.Settings){
		"known_hosts ed25519": func(s *remote.Settings) {},
		"known_hosts ecdsa": func(s *remote.Settings) {
			s.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, s.KnownHosts, []byte(knownhosts.Line([]string{addr}, e.srv.ECDSAKey)+"\n"), time.Now())
		},
		"pinned ed25519": func(s *remote.Settings) { s.HostKey = e.srv.Fingerprint() },
		"pinned ecdsa":   func(s *remote.Settings) { s.HostKey = ssh.FingerprintSHA256(e.srv.ECDSAKey) },
	} {
		t.Run(name, func(t *testing.T) {
			st := e.settings
			s(&st)
			loc, store, err := open(t, e.url("*.csv"), st)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := store.List(context.Background())
			if err != nil || len(objs) != 1 || objs[0].Name != "a.csv" {
				t.Fatalf("List %s: %v, %v", loc.URL, objs, err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "a.csv", []byte("x\n"), time.Now())
	encPEM, encPub := sftpserver.NewKey(t, "open sesame")
	srv2 := sftpserver.Start(t, sftpserver.Config{Root: e.root, User: user, AuthorizedKeys: []ssh.PublicKey{encPub}})
	kh2 := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh2, []byte(srv2.KnownHostsLine()+"\n"), time.Now())
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	writeFile(t, keyFile, []byte(encPEM), time.Now())
	url2 := fmt.Sprintf("sftp://%s@%s/exports/*.csv", user, srv2.Addr)
	base := remote.Settings{KnownHosts: e.settings.KnownHosts, Timeout: 5 * time.Second}

	ok := map[string]struct {
		url string
		s   remote.Settings
	}{
		"password":                   {e.url("*.csv"), remote.Settings{Password: password}},
		"private_key":                {e.url("*.csv"), remote.Settings{PrivateKey: e.keyPEM}},
		"private_key on one line":    {e.url("*.csv"), remote.Settings{PrivateKey: strings.ReplaceAll(e.keyPEM, "\n", `\n`)}},
		"key and wrong password":     {e.url("*.csv"), remote.Settings{PrivateKey: e.keyPEM, Password: "wrong"}},
		"encrypted key_file":         {url2, remote.Settings{KeyFile: keyFile, KeyPassphrase: "open sesame", KnownHosts: kh2}},
		"key refused, then password": {e.url("*.csv"), remote.Settings{PrivateKey: encPEM, KeyPassphrase: "open sesame", Password: password}},
	}
	for name, c := range ok {
		t.Run(name, func(t *testing.T) {
			s := c.s
			if s.KnownHosts == "" {
				s.KnownHosts = base.KnownHosts
			}
			got, err := e.sync(t, c.url, s)
			if err != nil {
				t.Fatal(err)
			}
			if got.Fetched+got.Unchanged != 1 {
				t.Errorf("%+v", got)
			}
		})
	}

	bad := map[string]struct {
		url       string
		s         remote.Settings
		want      []string
		permanent bool
	}{
		"wrong password": {e.url("*.csv"), remote.Settings{Password: "wrong"},
			[]string{"refused to log in user \"bob\" with the password", e.srv.Addr}, true},
		"key not authorized": {e.url("*.csv"), remote.Settings{PrivateKey: encPEM, KeyPassphrase: "open sesame"},
			[]string{"refused to log in user \"bob\" with the private key " + ssh.FingerprintSHA256(encPub)}, true},
		"no credentials": {e.url("*.csv"), remote.Settings{},
			[]string{"no credentials", "remote.private_key", "remote.password"}, true},
		"no passphrase": {url2, remote.Settings{KeyFile: keyFile},
			[]string{"is encrypted: set remote.key_passphrase"}, true},
		"wrong passphrase": {url2, remote.Settings{KeyFile: keyFile, KeyPassphrase: "nope"},
			[]string{"remote.key_passphrase does not decrypt the private key (remote.key_file " + keyFile}, true},
		"not a key": {url2, remote.Settings{PrivateKey: "ssh-ed25519 AAAA... me@host"},
			[]string{"read the private key (remote.private_key; a PEM or OpenSSH private key is expected"}, true},
		"host_key not SHA256": {e.url("*.csv"), remote.Settings{Password: password, HostKey: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"},
			[]string{"remote.host_key \"MD5:16:27", "is not a SHA256 fingerprint as ssh-keygen -l prints it"}, true},
		"no user": {strings.Replace(e.url("*.csv"), user+"@", "", 1), remote.Settings{Password: password},
			[]string{"no user name: put it in the URL (sftp://USER@" + e.srv.Addr + "/exports/*.csv)"}, true},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			s := c.s
			if s.KnownHosts == "" {
				s.KnownHosts = base.KnownHosts
			}
			_, err := e.sync(t, c.url, s)
			mustContain(t, err, c.want...)
			if remote.IsPermanent(err) != c.permanent {
				t.Errorf("permanent: %v, want %v", remote.IsPermanent(err), c.permanent)
			}
			t.Log(err)
		})
	}
}

// TestCutDownload: a connection cut in the middle of a file fails the sync
// after its retries, each on a new connection; the copy fetched before is
// untouched and no partial file is left.
func TestCutDownload(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	old := randomBytes(250_000, 2)
	e.put(t, "a.csv", old, t0)
	url := e.url("*.csv")
	first, err := e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}

	e.put(t, "a.csv", randomBytes(250_000, 3), t0.Add(time.Minute))
	e.srv.Cut("exports/a.csv", 100_000, -1)
	opens := e.srv.Opens("exports/a.csv")
	_, err = e.sync(t, url, e.settings)
	mustContain(t, err, "a.csv", "of 250000 bytes")
	t.Log(err)
	if remote.IsPermanent(err) {
		t.Errorf("a cut connection is marked permanent: %v", err)
	}
	if n := e.srv.Opens("exports/a.csv") - opens; n != e.mirror.Retry.Attempts {
		t.Errorf("the file was opened %d times, want once per attempt (%d)", n, e.mirror.Retry.Attempts)
	}
	files, partial := copies(t, e.mirror, first.Dir)
	if !bytes.Equal([]byte(files["a.csv"]), old) || len(files) != 1 {
		t.Errorf("the earlier copy changed: %d bytes", len(files["a.csv"]))
	}
	if fi, err := os.Stat(filepath.Join(first.Dir, "a.csv")); err != nil || !fi.ModTime().Equal(t0) {
		t.Errorf("the earlier copy is dated %v (%v), want %v", fi.ModTime(), err, t0)
	}
	if len(partial) != 0 {
		t.Errorf("partial files left: %v", partial)
	}

	// Cut once only: the retry dials again and gets the whole file.
	e.srv.Cut("exports/a.csv", 100_000, 1)
	got, err := e.sync(t, url, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	files, _ = copies(t, e.mirror, first.Dir)
	if got.Fetched != 1 || files["a.csv"] != string(randomBytes(250_000, 3)) {
		t.Errorf("after a single cut: %+v, copy of %d bytes", got, len(files["a.csv"]))
	}
}

// TestStalledDownload: a server that stops sending is given up after the
// timeout, and the retry, on a new connection, gets the file.
func TestStalledDownload(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	content := randomBytes(200_000, 4)
	e.put(t, "a.csv", content, time.Now())
	e.srv.Stall("exports/a.csv", 50_000, 1)
	s := e.settings
	s.Timeout = 300 * time.Millisecond
	got, err := e.sync(t, e.url("*.csv"), s)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := copies(t, e.mirror, got.Dir)
	if got.Fetched != 1 || files["a.csv"] != string(content) {
		t.Errorf("%+v, copy of %d bytes", got, len(files["a.csv"]))
	}
	if n := e.srv.Opens("exports/a.csv"); n != 2 {
		t.Errorf("opened %d times, want 2", n)
	}
}

func TestMissingFolder(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	url := fmt.Sprintf("sftp://%s@%s/nope/*.csv", user, e.srv.Addr)
	_, err := e.sync(t, url, e.settings)
	mustContain(t, err, "folder /nope of "+url+" does not exist")
	if !remote.IsPermanent(err) {
		t.Errorf("not permanent: %v", err)
	}
	t.Log(err)
}

// openOne opens the served folder and lists its one file.
func openOne(t *testing.T, e *env) (remote.Store, remote.Object) {
	t.Helper()
	_, st, err := open(t, e.url("*.csv"), e.settings)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(context.Background())
	if err != nil || len(objs) != 1 {
		t.Fatal(objs, err)
	}
	return st, objs[0]
}

// TestFetchUnchanged: Fetch writes nothing when the version it is given is
// the file's.
func TestFetchUnchanged(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "a.csv", []byte("x\n"), time.Now())
	st, obj := openOne(t, e)
	var buf bytes.Buffer
	v, unchanged, err := st.Fetch(context.Background(), obj, remote.Version{}, &buf)
	if err != nil || unchanged || buf.String() != "x\n" || v.Version != obj.Version || v.Size != 2 {
		t.Fatalf("first Fetch: %+v %v %v %q", v, unchanged, err, buf.String())
	}
	buf.Reset()
	v2, unchanged, err := st.Fetch(context.Background(), obj, v, &buf)
	if err != nil || !unchanged || buf.Len() != 0 || v2.Version != v.Version {
		t.Fatalf("second Fetch: %+v %v %v %q", v2, unchanged, err, buf.String())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(context.Background()); err == nil {
		t.Error("List after Close")
	}
}

// TestFetchEndingEarly: a file that ends before the size the server gave
// is an error, not a short success.
func TestFetchEndingEarly(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "a.csv", randomBytes(200_000, 5), time.Now())
	e.srv.EndEarly("exports/a.csv", 70_000, -1)
	st, obj := openOne(t, e)
	var buf bytes.Buffer
	_, _, err := st.Fetch(context.Background(), obj, remote.Version{}, &buf)
	mustContain(t, err, "got 65536 bytes where the server announced 200000")
	t.Log(err)
}

// TestHomeRelativePath: sftp://user@host/~/folder/... reads the folder
// under the login folder (the test server's is its root).
func TestHomeRelativePath(t *testing.T) {
	e := newEnv(t, sftpserver.Config{})
	e.put(t, "a.csv", []byte("x\n"), time.Now())
	got, err := e.sync(t, fmt.Sprintf("sftp://%s@%s/~/exports/*.csv", user, e.srv.Addr), e.settings)
	if err != nil || got.Fetched != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
}
