package sftp

// Login: a private key (text or file, maybe encrypted) and/or a password.

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/uptake-dev/uptake/connectors/remote"
)

// expandHome reads a leading ~/ in a file name as the home folder.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// authMethods are the ways to log in that the settings give, the key then
// the password, and their names for messages.
func authMethods(s remote.Settings) ([]ssh.AuthMethod, string, error) {
	var methods []ssh.AuthMethod
	var names []string
	signer, err := privateKey(s)
	if err != nil {
		return nil, "", err
	}
	if signer != nil {
		methods = append(methods, ssh.PublicKeys(signer))
		names = append(names, "the private key "+ssh.FingerprintSHA256(signer.PublicKey()))
	}
	if pw := s.Password; pw != "" {
		names = append(names, "the password")
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				if len(questions) > 1 {
					return nil, fmt.Errorf("the server asks %d questions; only a password can be answered", len(questions))
				}
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, "", errors.New("no credentials for the SFTP server: set remote.private_key or remote.key_file (a private key), and/or remote.password, each best from the environment (${VAR})")
	}
	return methods, strings.Join(names, " and "), nil
}

// privateKey reads the configured private key (nil when there is none).
func privateKey(s remote.Settings) (ssh.Signer, error) {
	var pemBytes []byte
	var what string
	switch {
	case s.PrivateKey != "" && s.KeyFile != "":
		return nil, errors.New("set remote.private_key or remote.key_file, not both")
	case s.PrivateKey != "":
		what = "remote.private_key"
		text := s.PrivateKey
		if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
			// A key squeezed onto one line by a secret store.
			text = strings.ReplaceAll(text, `\n`, "\n")
		}
		pemBytes = []byte(text)
	case s.KeyFile != "":
		p, err := expandHome(s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("remote.key_file: %w", err)
		}
		what = "remote.key_file " + p
		if pemBytes, err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("read the private key: %w", err)
		}
	default:
		return nil, nil
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		if s.KeyPassphrase == "" {
			return nil, fmt.Errorf("the private key (%s) is encrypted: set remote.key_passphrase", what)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(s.KeyPassphrase))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("remote.key_passphrase does not decrypt the private key (%s)", what)
		}
		if err != nil {
			return nil, fmt.Errorf("decrypt the private key (%s): %w", what, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read the private key (%s; a PEM or OpenSSH private key is expected, not the .pub file): %w", what, err)
	}
	return signer, nil
}
