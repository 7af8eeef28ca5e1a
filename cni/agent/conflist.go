package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/planeless/planeless/cni"
)

// Insert returns the CNI configuration file name/data with entry (the
// plugin's configuration, a JSON object) as its last plugin, and the name
// to write it under: a .conf (one plugin) becomes a .conflist of the same
// base name. An entry of the plugin already there is replaced. The output
// is the same for the same input, so that a later Remove can tell it was
// not changed since.
func Insert(name string, data, entry []byte) (string, []byte, error) {
	top, plugins, err := decode(name, data)
	if err != nil {
		return "", nil, err
	}
	var kept []json.RawMessage
	for _, p := range plugins {
		if !isPlanelessEntry(p) {
			kept = append(kept, p)
		}
	}
	if !json.Valid(entry) {
		return "", nil, errors.New("the plugin's entry is not JSON")
	}
	top["plugins"] = mustMarshal(append(kept, json.RawMessage(entry)))
	out, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("encoding %s: %w", name, err)
	}
	if filepath.Ext(name) == ".conf" {
		name = strings.TrimSuffix(name, ".conf") + ".conflist"
	}
	return name, append(out, '\n'), nil
}

// Remove returns the configuration list data without the plugin's
// entries, and whether it had any.
func Remove(name string, data []byte) ([]byte, bool, error) {
	top, plugins, err := decode(name, data)
	if err != nil {
		return nil, false, err
	}
	var kept []json.RawMessage
	for _, p := range plugins {
		if !isPlanelessEntry(p) {
			kept = append(kept, p)
		}
	}
	if len(kept) == len(plugins) {
		return data, false, nil
	}
	top["plugins"] = mustMarshal(kept)
	out, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, false, fmt.Errorf("encoding %s: %w", name, err)
	}
	return append(out, '\n'), true, nil
}

// Has reports whether the configuration file chains the plugin.
func Has(name string, data []byte) bool {
	_, plugins, err := decode(name, data)
	if err != nil {
		return false
	}
	for _, p := range plugins {
		if isPlanelessEntry(p) {
			return true
		}
	}
	return false
}

// Entry returns the plugin's entry in the configuration list.
// The fields are those of cni.Conf that the agent sets; the runtime adds
// the list's name and version, and the previous result.
func Entry(kubeconfig string, excludeNamespaces []string) []byte {
	return mustMarshal(struct {
		Type              string   `json:"type"`
		Kubeconfig        string   `json:"kubeconfig"`
		ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
	}{cni.PluginType, kubeconfig, excludeNamespaces})
}

// decode reads a configuration file: its top-level fields and its
// plugins. A single plugin's .conf is read as a list of that one plugin,
// with the list's name and version taken from it.
func decode(name string, data []byte) (map[string]json.RawMessage, []json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	raw, isList := top["plugins"]
	if !isList {
		if _, ok := top["type"]; !ok {
			return nil, nil, fmt.Errorf("%s is neither a configuration list (no plugins) nor a plugin's configuration (no type)", name)
		}
		single := map[string]json.RawMessage{"plugins": mustMarshal([]json.RawMessage{bytes.TrimSpace(data)})}
		for _, k := range []string{"cniVersion", "name"} {
			if v, ok := top[k]; ok {
				single[k] = v
			}
		}
		return single, []json.RawMessage{bytes.TrimSpace(data)}, nil
	}
	var plugins []json.RawMessage
	if err := json.Unmarshal(raw, &plugins); err != nil {
		return nil, nil, fmt.Errorf("parsing the plugins of %s: %w", name, err)
	}
	return top, plugins, nil
}

func isPlanelessEntry(p json.RawMessage) bool {
	var t struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(p, &t) == nil && t.Type == cni.PluginType
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("agent: %T is always encodable: %v", v, err))
	}
	return b
}
