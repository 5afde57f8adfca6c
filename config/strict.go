package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var pluginType = reflect.TypeOf(Plugin{})

// DecodeStrict decodes node into out (a pointer to a struct), first checking
// that every mapping key matches a `yaml` tag of the struct, recursively.
// An unknown key is an error naming file, line and the keys that are known,
// so a typo never silently falls back to a default.
func DecodeStrict(file string, node *yaml.Node, out any) error {
	if err := checkKeys(file, node, reflect.TypeOf(out)); err != nil {
		return err
	}
	if err := node.Decode(out); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

func checkKeys(file string, n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || t == pluginType {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			ft, ok := fields[key.Value]
			if !ok {
				return fmt.Errorf("%s:%d: unknown key %q (known keys: %s)", file, key.Line, key.Value, strings.Join(sortedKeys(fields), ", "))
			}
			if err := checkKeys(file, n.Content[i+1], ft); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if err := checkKeys(file, c, t.Elem()); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := checkKeys(file, n.Content[i], t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	if t == pluginType {
		return nil
	}
	return fields
}

func sortedKeys(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lookup finds the node of a dot-separated key path, or the deepest node found.
func lookup(n *yaml.Node, path string) *yaml.Node {
	if n == nil {
		return nil
	}
	cur := n
	for _, part := range strings.Split(path, ".") {
		next := child(cur, part)
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

func child(n *yaml.Node, key string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// EnvVars lists, sorted, the environment variables a config's text reads:
// the ${VAR} of its values (those of comments are not read).
func EnvVars(text []byte) ([]string, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(text, &root); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			for _, m := range envRef.FindAllStringSubmatch(n.Value, -1) {
				seen[m[1]] = true
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// expandEnv replaces ${VAR} in every scalar value. A variable that is not set
// is an error naming the file and line (never the value).
func expandEnv(file string, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var missing []string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := os.LookupEnv(name)
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("%s:%d: environment variable %s is not set", file, n.Line, strings.Join(missing, ", "))
		}
	}
	for _, c := range n.Content {
		if err := expandEnv(file, c); err != nil {
			return err
		}
	}
	return nil
}

// PluginErrorf builds an error naming the plugin's file and the line of a key
// inside its block (or of the block itself when the key is absent).
func (p Plugin) PluginErrorf(key, format string, args ...any) error {
	line := p.Node.Line
	if key != "" {
		if n := lookup(p.Node, key); n != nil {
			line = n.Line
		}
	}
	return fmt.Errorf("%s:%d: %s %q: %s", p.File, line, p.Kind, p.Name, fmt.Sprintf(format, args...))
}

// ExpandPath resolves a leading ~ to the home directory.
func ExpandPath(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + p[1:]
		}
	}
	return p
}
