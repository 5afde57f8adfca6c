package etl_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// chdirNode makes every relative `path:` value under n absolute against root.
func chdirNode(t *testing.T, n *yaml.Node, root string) {
	t.Helper()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "path" && v.Kind == yaml.ScalarNode && !filepath.IsAbs(v.Value) && !strings.HasPrefix(v.Value, "~") {
			v.Value = filepath.Join(root, v.Value)
		}
		if v.Kind == yaml.MappingNode {
			chdirNode(t, v, root)
		}
	}
}

// setKey sets a scalar key of a mapping node, adding it when absent.
func setKey(n *yaml.Node, key, value string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1].Value = value
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}
