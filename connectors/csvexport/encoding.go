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
	// tentative says the file is read as UTF-8 because its first line is:
	// the structural pass checks the rest (see errNotUTF8).
	tentative bool
	// cleanup removes the copies, if any.
	cleanup func()
}

var errEmpty = errors.New("the file is empty")

// prepare detects the encoding of file (BOM → UTF-8/UTF-16; UTF-8 when the
// first line is valid UTF-8, tentatively; otherwise fallback, or at once when
// useFallback) and, when it is not UTF-8, copies it to a UTF-8 temporary file
// in tmpDir. Line count and order are preserved, so line numbers refer to the
// original file.
func prepare(file, configured, fallback, tmpDir string, useFallback bool) (*prepared, error) {
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
	p := &prepared{path: file, cleanup: func() {}}
	enc, name := detectBOM(head)
	mode := strings.ToLower(configured)
	if name == "utf-8-bom" && (mode == "" || mode == "auto") && !useFallback {
		p.tentative = true // a BOM on a file that is not UTF-8 past it: the fallback
	}
	var skip int64
	if name == "utf-8-bom" && (mode == "" || mode == "auto") && useFallback {
		enc, name, skip = nil, "", 3 // decoded with the fallback below, without the BOM
	}
	if enc == nil && name == "" {
		switch {
		case (mode == "" || mode == "auto") && !useFallback:
			var ok bool
			if ok, err = firstLineUTF8(file); err != nil {
				return nil, err
			}
			if ok {
				name, p.tentative = "utf-8", true
				break
			}
			enc, name, err = lookupEncoding(fallback)
		case mode == "" || mode == "auto":
			enc, name, err = lookupEncoding(fallback)
		default:
			enc, name, err = lookupEncoding(configured)
		}
		if err != nil {
			return nil, err
		}
	}
	p.encoding = name
	if enc != nil {
		if p.path, err = transcode(f, skip, enc, name, tmpDir); err != nil {
			return nil, err
		}
		p.cleanup = func() { os.Remove(p.path) }
	}
	header, err := firstLine(p.path)
	if err != nil {
		p.cleanup()
		return nil, err
	}
	p.header = header
	return p, nil
}

// transcode copies f from byte skip on into a UTF-8 temporary file in tmpDir.
func transcode(f *os.File, skip int64, enc encoding.Encoding, name, tmpDir string) (string, error) {
	if _, err := f.Seek(skip, io.SeekStart); err != nil {
		return "", err
	}
	path, err := writeTemp(tmpDir, "uptake-utf8-*.csv", func(tmp io.Writer) error {
		w := bufio.NewWriterSize(tmp, 1<<20)
		if _, err := io.Copy(w, transform.NewReader(f, enc.NewDecoder())); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		return "", fmt.Errorf("transcode from %s: %w", name, err)
	}
	return path, nil
}

// writeTemp writes a temporary file in dir (named after pattern, as
// os.CreateTemp does) with write, and returns its path; on any error,
// closing included, the file is removed.
func writeTemp(dir, pattern string, write func(io.Writer) error) (string, error) {
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
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

// firstLineUTF8 tells whether the first line of a file is valid UTF-8.
func firstLineUTF8(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadSlice('\n')
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return false, err
	}
	if err == bufio.ErrBufferFull { // a header line longer than 64 KiB: its last character may be cut
		for i := 1; i <= 3 && i <= len(line); i++ {
			if utf8.RuneStart(line[len(line)-i]) {
				line = line[:len(line)-i]
				break
			}
		}
	}
	return utf8.Valid(line), nil
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
