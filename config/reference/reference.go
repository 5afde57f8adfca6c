// Package reference writes the configuration reference of
// docs/reference.md from the structs a config is decoded into: their
// yaml keys, their types, the doc comments of their fields, and the values
// of their defaults. The decoder (strict: an unknown key is an error) and
// the reference read the same structs, so a key cannot be accepted without
// being documented, nor documented without being accepted.
package reference

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Block is one table of the reference: a config block and its defaults.
type Block struct {
	// Title heads the table ("Top level", "Source `kind: csvexport`").
	Title string
	// Defaults is the block's struct holding its default values (its
	// zero value when the code sets defaults elsewhere).
	Defaults any
	// Skip are keys left out (name and kind, common to every plugin).
	Skip []string
}

// Key is one documented key.
type Key struct {
	// Path is the key as written in YAML, dotted (establishments.path,
	// jobs[].schedule).
	Path string
	// Type is its YAML type in words.
	Type string
	// Default is its default value, "" when none is set in Defaults.
	Default string
	// Doc is its field's doc comment, as a sentence for users.
	Doc string
}

// Keys lists the keys of a block's struct, in field order. moduleRoot is
// the repository's root (its Go sources give the doc comments);
// modulePath its module path.
func Keys(moduleRoot, modulePath string, b Block) ([]Key, error) {
	docs := docIndex{root: moduleRoot, module: modulePath, parsed: map[string]map[string]string{}, skip: b.Skip}
	var keys []Key
	if err := walk(&docs, reflect.ValueOf(b.Defaults), "", &keys); err != nil {
		return nil, err
	}
	if len(docs.missing) > 0 {
		return nil, fmt.Errorf("no doc comment on %s: every config key needs one (it is the reference)", strings.Join(docs.missing, ", "))
	}
	return keys, nil
}

// Markdown writes the blocks as a heading and a table each.
func Markdown(moduleRoot, modulePath string, blocks []Block) (string, error) {
	var sb strings.Builder
	for _, b := range blocks {
		keys, err := Keys(moduleRoot, modulePath, b)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", b.Title)
		for _, k := range keys {
			def := "—"
			if k.Default != "" {
				def = "`" + k.Default + "`"
			}
			fmt.Fprintf(&sb, "| `%s` | %s | %s | %s |\n", k.Path, k.Type, def, escape(k.Doc))
		}
		sb.WriteString("\n")
	}
	return strings.TrimRight(sb.String(), "\n") + "\n", nil
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	nodeLike     = regexp.MustCompile(`^(Plugin|Node)$`)
)

// walk appends the keys of the struct value v under prefix.
func walk(docs *docIndex, v reflect.Value, prefix string, keys *[]Key) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		fv := v.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
			if fv.IsNil() {
				fv = reflect.Zero(ft)
			} else {
				fv = fv.Elem()
			}
		}
		if strings.Contains(opts, "inline") {
			if err := walk(docs, fv, prefix, keys); err != nil {
				return err
			}
			continue
		}
		path := prefix + name
		if contains(docs.skip, path) {
			continue
		}
		doc, err := docs.field(t, f.Name)
		if err != nil {
			return err
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType && !nodeLike.MatchString(ft.Name()):
			if group := sameTypeFields(t, i); len(group) > 1 {
				if group[0] != i {
					continue // documented with the first of its group
				}
				if err := walkGroup(docs, v, t, group, prefix, keys); err != nil {
					return err
				}
				continue
			}
			if err := walk(docs, fv, path+".", keys); err != nil {
				return err
			}
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !nodeLike.MatchString(ft.Elem().Name()):
			*keys = append(*keys, Key{Path: path, Type: "list of blocks", Doc: doc})
			if err := walk(docs, reflect.Zero(ft.Elem()), path+"[].", keys); err != nil {
				return err
			}
			continue
		}
		*keys = append(*keys, Key{Path: path, Type: typeName(ft), Default: valueText(fv), Doc: doc})
	}
	return nil
}

// sameTypeFields are the indexes of t's fields of the struct type of field
// i (several exports of one kind: establishments, users, activity, orders).
func sameTypeFields(t reflect.Type, i int) []int {
	var out []int
	for j := 0; j < t.NumField(); j++ {
		if t.Field(j).Type == t.Field(i).Type && t.Field(j).IsExported() {
			out = append(out, j)
		}
	}
	return out
}

// walkGroup documents fields of one struct type once: a key <name> naming
// each field, then the struct's keys under <name>. (a default set for
// one of them shows).
func walkGroup(docs *docIndex, v reflect.Value, t reflect.Type, group []int, prefix string, keys *[]Key) error {
	var names, docsText []string
	for _, j := range group {
		name, _, _ := strings.Cut(t.Field(j).Tag.Get("yaml"), ",")
		doc, err := docs.field(t, t.Field(j).Name)
		if err != nil {
			return err
		}
		names = append(names, "`"+name+"`")
		docsText = append(docsText, "`"+name+"`: "+strings.TrimSuffix(doc, ".")+".")
	}
	ft := t.Field(group[0]).Type
	label := "<" + strings.ToLower(ft.Name()) + ">"
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	*keys = append(*keys, Key{Path: prefix + label, Type: "block",
		Doc: "Stands for " + list + ", each a block of the keys below. " + strings.Join(docsText, " ")})
	var sub []Key
	for _, j := range group {
		var these []Key
		if err := walk(docs, v.Field(j), prefix+label+".", &these); err != nil {
			return err
		}
		if sub == nil {
			sub = these
			continue
		}
		for k := range these { // a default set for one of them shows
			if sub[k].Default == "" {
				sub[k].Default = these[k].Default
			}
		}
	}
	*keys = append(*keys, sub...)
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.String:
		return "text"
	case t.Kind() == reflect.Bool:
		return "true/false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice && nodeLike.MatchString(t.Elem().Name()):
		return "list of blocks"
	case t.Kind() == reflect.Slice:
		return "list of " + strings.TrimSuffix(typeName(t.Elem()), "s") + "s"
	case t.Kind() == reflect.Map:
		return "map"
	}
	return t.Kind().String()
}

// valueText is a default as written in YAML, "" for a zero value.
func valueText(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch {
	case v.Type() == durationType:
		return durationText(v.Interface().(time.Duration))
	case v.Kind() == reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, fmt.Sprint(v.Index(i).Interface()))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.Kind() == reflect.Map:
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v: %v", k.Interface(), v.MapIndex(k).Interface()))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v.Interface())
}

// durationText is a duration as a config would write it: 6h, 5m, 1h30m
// (time.Duration.String's zero minutes and seconds dropped: 6h0m0s).
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// docIndex reads the doc comments of struct fields from the Go sources.
type docIndex struct {
	root, module string
	parsed       map[string]map[string]string // package dir → "Type.Field" → doc
	skip         []string                     // keys left out
	missing      []string                     // fields without a doc comment
}

func (d *docIndex) field(t reflect.Type, field string) (string, error) {
	pkg := t.PkgPath()
	if !strings.HasPrefix(pkg, d.module) {
		return "", fmt.Errorf("%s is not in module %s", pkg, d.module)
	}
	dir := filepath.Join(d.root, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, d.module), "/")))
	if d.parsed[dir] == nil {
		m, err := parseDocs(dir)
		if err != nil {
			return "", err
		}
		d.parsed[dir] = m
	}
	doc, ok := d.parsed[dir][t.Name()+"."+field]
	if !ok || doc == "" {
		d.missing = append(d.missing, fmt.Sprintf("%s.%s.%s", pkg, t.Name(), field))
		return "", nil
	}
	return userSentence(field, doc), nil
}

// parseDocs maps "Type.Field" to the doc comment of each struct field of
// the package in dir (test files left out).
func parseDocs(dir string) (map[string]string, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fld := range st.Fields.List {
					text := fld.Doc.Text()
					if text == "" {
						text = fld.Comment.Text()
					}
					for _, name := range fld.Names {
						out[ts.Name.Name+"."+name.Name] = text
					}
				}
				return false
			})
		}
	}
	return out, nil
}

// userSentence turns a Go doc comment into the reference's text: one
// line, without the field's Go name ("Path is a file glob" → "A file
// glob").
func userSentence(field, doc string) string {
	s := strings.Join(strings.Fields(doc), " ")
	if s == "" {
		return s
	}
	for _, verb := range []string{" is ", " are "} {
		if strings.HasPrefix(s, field+verb) {
			return capitalize(strings.TrimPrefix(s, field+verb))
		}
	}
	if strings.HasPrefix(s, field+", ") || strings.HasPrefix(s, field+" ") {
		s = strings.TrimPrefix(strings.TrimPrefix(s, field), ",")
		return capitalize(strings.TrimSpace(s))
	}
	return s
}

// capitalize starts a sentence with a capital, unless it starts with a
// value (`kpi`, a number) or a code word (raw_orders, uptake.duckdb,
// ${VAR}), whose case matters.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	word, _, _ := strings.Cut(s, " ")
	if strings.ContainsAny(word, "`_./:@${}<>0123456789") {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
