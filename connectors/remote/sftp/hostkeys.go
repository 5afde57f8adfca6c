package sftp

// Host keys: the server's key is checked against known_hosts or a pinned
// fingerprint, never skipped; a refusal names what was presented.

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/uptake-dev/uptake/connectors/remote"
)

// hostKeys checks the server's host key: against its pinned fingerprint,
// or against known_hosts.
type hostKeys struct {
	host, port string
	// pin is the pinned fingerprint, "SHA256:" and unpadded base64.
	pin string
	// file is the known_hosts file; known its callback.
	file  string
	known ssh.HostKeyCallback
	// algorithms are the host key algorithms to ask for: those of the
	// keys known_hosts lists for the host, so that the server presents
	// one of them (nil: x/crypto's defaults); with a pin, every plain kind.
	algorithms []string
}

// keyFormat is the key type of a host key algorithm.
func keyFormat(algo string) string {
	switch algo {
	case ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512:
		return ssh.KeyAlgoRSA
	}
	return algo
}

func newHostKeys(s remote.Settings, addr, host, port string) (*hostKeys, error) {
	h := &hostKeys{host: host, port: port}
	if s.HostKey != "" {
		pin := strings.TrimRight(strings.TrimSpace(s.HostKey), "=")
		if !strings.HasPrefix(pin, "SHA256:") || len(pin) != len("SHA256:")+43 {
			return nil, fmt.Errorf("remote.host_key %q is not a SHA256 fingerprint as ssh-keygen -l prints it (SHA256: then 43 characters); get the server's with ssh-keyscan -p %s %s | ssh-keygen -lf - and check it with the server's administrator", s.HostKey, port, host)
		}
		h.pin = pin
		h.algorithms = plainAlgorithms
		return h, nil
	}
	file := s.KnownHosts
	if file == "" {
		file = "~/.ssh/known_hosts"
	}
	file, err := expandHome(file)
	if err != nil {
		return nil, fmt.Errorf("remote.known_hosts: %w", err)
	}
	h.file = file
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the known_hosts file %s does not exist, and the SFTP server's host key must be known before connecting: add it with  ssh-keyscan -p %s %s >> %s  (then check the fingerprints  ssh-keygen -lf %s  prints with the server's administrator), or pin its fingerprint as remote.host_key: \"SHA256:...\"",
			file, port, host, file, file)
	}
	if h.known, err = knownhosts.New(file); err != nil {
		return nil, fmt.Errorf("read the known_hosts file: %w", err)
	}
	h.algorithms = h.knownAlgorithms(addr)
	return h, nil
}

// knownAlgorithms are the algorithms of the keys known_hosts lists for
// addr, found by checking a key that cannot be there (nil when none).
func (h *hostKeys) knownAlgorithms(addr string) []string {
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := h.known(addr, &net.TCPAddr{IP: net.IPv4zero}, probe); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	types := map[string]bool{}
	for _, k := range ke.Want {
		types[k.Key.Type()] = true
	}
	var out []string
	for _, a := range plainAlgorithms {
		if types[keyFormat(a)] {
			out = append(out, a)
		}
	}
	for _, k := range ke.Want { // kinds not in plainAlgorithms, in file order
		t := k.Key.Type()
		plain := slices.ContainsFunc(plainAlgorithms, func(a string) bool { return keyFormat(a) == t })
		if !plain && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// check accepts key when it is the pinned one or known_hosts lists it for
// hostname.
func (h *hostKeys) check(hostname string, addr net.Addr, key ssh.PublicKey) error {
	if h.pin != "" {
		if ssh.FingerprintSHA256(key) == h.pin {
			return nil
		}
		return &hostKeyError{addr: hostname, keys: h}
	}
	err := h.known(hostname, addr, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke):
		return &hostKeyError{addr: hostname, keys: h, want: ke.Want}
	case errors.As(err, &re):
		return &hostKeyError{addr: hostname, keys: h, revoked: re}
	}
	return err
}

// hostKeyError is a host key that is not the one expected.
type hostKeyError struct {
	addr      string
	keys      *hostKeys
	presented []ssh.PublicKey
	want      []knownhosts.KnownKey // known_hosts' keys for the host; none: unknown
	revoked   *knownhosts.RevokedError
}

func describe(k ssh.PublicKey) string { return k.Type() + " " + ssh.FingerprintSHA256(k) }

func (e *hostKeyError) Error() string {
	var got []string
	for _, k := range e.presented {
		got = append(got, describe(k))
	}
	presented := strings.Join(got, ", then ")
	if presented == "" {
		presented = "no key"
	}
	h := e.keys
	const intercept = "If the server's key changed, check the new fingerprint with its administrator before trusting it; otherwise someone may be intercepting the connection. Nothing was fetched."
	switch {
	case h.pin != "":
		return fmt.Sprintf("SFTP host key mismatch for %s: the server presented %s, but remote.host_key pins %s. %s", e.addr, presented, h.pin, intercept)
	case e.revoked != nil:
		return fmt.Sprintf("SFTP host key of %s is revoked: the server presented %s, marked @revoked in %s:%d. Nothing was fetched.", e.addr, presented, e.revoked.Revoked.Filename, e.revoked.Revoked.Line)
	case len(e.want) == 0:
		fp := "SHA256:..."
		if len(e.presented) > 0 {
			fp = ssh.FingerprintSHA256(e.presented[len(e.presented)-1])
		}
		return fmt.Sprintf("SFTP host %s is not in the known_hosts file %s (the server presented %s): once its administrator has confirmed that fingerprint, add the key with  ssh-keyscan -p %s %s >> %s  or pin it as remote.host_key: %q. Nothing was fetched.",
			e.addr, h.file, presented, h.port, h.host, h.file, fp)
	}
	var want []string
	for _, k := range e.want {
		want = append(want, fmt.Sprintf("%s (%s:%d)", describe(k.Key), k.Filename, k.Line))
	}
	return fmt.Sprintf("SFTP host key mismatch for %s: the server presented %s, but the known_hosts file expects %s. %s", e.addr, presented, strings.Join(want, ", "), intercept)
}
