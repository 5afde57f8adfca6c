package https

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// maxListing bounds the size of a directory listing read (a listing of
// 100,000 files in Apache's fancy format is about 20 MB).
var maxListing int64 = 64 << 20

var errTooLarge = fmt.Errorf("the directory listing is larger than %d MB", maxListing>>20)

// listingNames reads an HTML page of links and returns, in the order of
// the page and once each, the names of the files of the folder it lists:
// the links (<a href>) that, resolved against one of bases (the folder's
// URL, then where a redirect led), name a plain file in that folder on the
// same host. It also returns how many links the page has in all.
//
// The page is read with golang.org/x/net/html's tokenizer, which decodes
// entities in attribute values (&amp;) and copes with the loose HTML of
// listings (unquoted attributes, unclosed tags, upper case) the way
// browsers do.
func listingNames(r io.Reader, bases []*url.URL) ([]string, int, error) {
	z := html.NewTokenizer(&limitReader{r: r, left: maxListing})
	var names []string
	seen := map[string]bool{}
	links := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return nil, links, err
			}
			return names, links, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			if string(tag) != "a" || !hasAttr {
				continue
			}
			for {
				key, val, more := z.TagAttr()
				if string(key) == "href" {
					links++
					if name, ok := fileName(string(val), bases); ok && !seen[name] {
						seen[name] = true
						names = append(names, name)
					}
					break
				}
				if !more {
					break
				}
			}
		}
	}
}

// fileName is the file name href names in the folder of one of bases, if
// it names one: a relative link, or an absolute path or URL (http or
// https) into that folder on the same host name, without a query string;
// not a subfolder (a trailing slash) nor the folder itself or its parent.
func fileName(href string, bases []*url.URL) (string, bool) {
	href = strings.TrimSpace(href)
	if href == "" {
		return "", false
	}
	for _, base := range bases {
		u, err := base.Parse(href)
		if err != nil || u.RawQuery != "" || u.ForceQuery || u.Opaque != "" || u.User != nil {
			return "", false
		}
		if (u.Scheme != "https" && u.Scheme != "http") || !strings.EqualFold(u.Hostname(), base.Hostname()) {
			continue
		}
		dir := base.Path[:strings.LastIndex(base.Path, "/")+1]
		name, ok := strings.CutPrefix(u.Path, dir)
		if !ok || name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			continue
		}
		return name, true
	}
	return "", false
}

// limitReader reads at most left bytes, then fails with errTooLarge.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return l.r.Read(p[:0])
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// snippetLen is how much of an error answer's body a message shows.
const snippetLen = 200

// bodySnippet is the start of an error answer's body for a message: its
// text when it is HTML (the tags dropped), spaces collapsed, at most
// snippetLen characters.
func bodySnippet(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	text := string(b)
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		text = htmlText(b)
	}
	text = strings.Join(strings.Fields(strings.ToValidUTF8(text, "?")), " ")
	if utf8.RuneCountInString(text) > snippetLen {
		r := []rune(text)
		text = strings.TrimRight(string(r[:snippetLen]), " ") + "…"
	}
	return text
}

// htmlText is the text of an HTML page, without its tags, scripts and
// styles.
func htmlText(b []byte) string {
	z := html.NewTokenizer(strings.NewReader(string(b)))
	var sb strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return sb.String()
		case html.StartTagToken:
			if t, _ := z.TagName(); string(t) == "script" || string(t) == "style" {
				skip++
			}
		case html.EndTagToken:
			if t, _ := z.TagName(); (string(t) == "script" || string(t) == "style") && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				sb.Write(z.Text())
				sb.WriteByte(' ')
			}
		}
	}
}
