package csvexport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// prepared is a file ready for DuckDB's CSV reader: UTF-8 (DuckDB reads
// UTF-8, UTF-16 and Latin-1 only), with its decoded header line.
type prepared struct {
	// path is what DuckDB reads: the original file, or a UTF-8 copy.
	path string
	// encoding is what was detected ("utf-8", "utf-8-bom", "utf-16le", "windows-1252", ...).
	encoding string
	// header is the first line, decoded, without its line end.
	header string
	// cleanup removes the copy, if any.
	cleanup func()
}

var errEmpty = errors.New("the file is empty")

// prepare detects the encoding of file (BOM → UTF-8/UTF-16; valid UTF-8 →
// UTF-8; otherwise fallback) and, when it is not UTF-8, copies it to a UTF-8
// temporary file in tmpDir. Line count and order are preserved, so line
// numbers DuckDB reports refer to the original file.
func prepare(file, configured, fallback, tmpDir string) (*prepared, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return nil, errEmpty
	}
	enc, name := detectBOM(head)
	if enc == nil {
		switch strings.ToLower(configured) {
		case "", "auto":
			ok, err := isUTF8(f)
			if err != nil {
				return nil, err
			}
			if ok {
				name = "utf-8"
			} else {
				enc, name, err = lookupEncoding(fallback)
				if err != nil {
					return nil, err
				}
			}
		default:
			enc, name, err = lookupEncoding(configured)
			if err != nil {
				return nil, err
			}
		}
	}
	p := &prepared{path: file, encoding: name, cleanup: func() {}}
	if enc != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		tmp, err := os.CreateTemp(tmpDir, "uptake-utf8-*.csv")
		if err != nil {
			return nil, fmt.Errorf("transcode: %w", err)
		}
		w := bufio.NewWriterSize(tmp, 1<<20)
		_, err = io.Copy(w, transform.NewReader(f, enc.NewDecoder()))
		if err == nil {
			err = w.Flush()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("transcode from %s: %w", name, err)
		}
		p.path = tmp.Name()
		p.cleanup = func() { os.Remove(tmp.Name()) }
	}
	header, err := firstLine(p.path)
	if err != nil {
		p.cleanup()
		return nil, err
	}
	p.header = header
	return p, nil
}

func detectBOM(b []byte) (encoding.Encoding, string) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return nil, "utf-8-bom" // DuckDB skips a UTF-8 BOM itself
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be"
	}
	return nil, ""
}

func lookupEncoding(name string) (encoding.Encoding, string, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "utf-8", "utf8":
		return nil, "utf-8", nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252, "windows-1252", nil
	case "latin-1", "latin1", "iso-8859-1":
		return charmap.ISO8859_1, "iso-8859-1", nil
	case "iso-8859-15", "latin-9":
		return charmap.ISO8859_15, "iso-8859-15", nil
	case "utf-16", "utf-16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "utf-16le", nil
	}
	return nil, "", fmt.Errorf("unknown encoding %q (use auto, utf-8, windows-1252, iso-8859-1, iso-8859-15 or utf-16)", name)
}

// isUTF8 reads the whole file from the start and tells whether it is valid
// UTF-8, carrying incomplete runes across buffer boundaries.
func isUTF8(f *os.File) (bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	buf := make([]byte, 1<<20)
	carry := 0
	for {
		n, err := f.Read(buf[carry:])
		n += carry
		if n > 0 {
			end := n
			if err != io.EOF {
				// keep up to 3 trailing bytes that may start a multi-byte rune
				for i := 1; i <= 3 && i <= n; i++ {
					if utf8.RuneStart(buf[n-i]) {
						if !utf8.FullRune(buf[n-i : n]) {
							end = n - i
						}
						break
					}
				}
			}
			if !utf8.Valid(buf[:end]) {
				return false, nil
			}
			carry = copy(buf, buf[end:n])
		}
		if err == io.EOF {
			return carry == 0 || utf8.Valid(buf[:carry]), nil
		}
		if err != nil {
			return false, err
		}
	}
}

func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimPrefix(line, "\uFEFF")
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return "", errEmpty
	}
	return line, nil
}
