package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// confExtensions are the files a CNI runtime reads in its conf folder
// (libcni's, as containerd and CRI-O use it).
var confExtensions = []string{".conf", ".conflist", ".json"}

// primaryFile returns the configuration file the runtime uses: name when
// set, else the first in lexical order. It is "" when there is none yet
// (the primary CNI has not written it).
func primaryFile(dir, name string) (string, error) {
	if name != "" {
		// A .conf the agent chained into is a .conflist now.
		for _, n := range []string{name, strings.TrimSuffix(name, ".conf") + ".conflist"} {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				return n, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		return "", nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("reading the CNI conf folder: %w", err)
	}
	for _, e := range entries { // sorted by name
		if !e.IsDir() && slices.Contains(confExtensions, filepath.Ext(e.Name())) {
			return e.Name(), nil
		}
	}
	return "", nil
}

// writeAtomic writes data to path through a temporary file in the same
// folder and a rename: a reader sees the old file or the new one, never
// a part. The temporary file's name has no configuration extension.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	return writeAtomicFrom(path, bytes.NewReader(data), mode)
}

// writeAtomicFrom is writeAtomic of what r reads.
func writeAtomicFrom(path string, r io.Reader, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planeless-cni-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, r)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// original is the primary CNI's file as the agent found it before
// chaining the plugin into it, kept so that removing the plugin gives it
// back byte for byte.
type original struct {
	// Name is the file's name; Written the name the agent wrote it under
	// (a .conf becomes a .conflist).
	Name    string `json:"name"`
	Written string `json:"written"`
	Data    []byte `json:"data"`
	Mode    uint32 `json:"mode"`
}

func (o original) save(path string) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return writeAtomic(path, b, 0o600)
}

func loadOriginal(path string) (*original, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o original
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &o, nil
}

// chain makes the primary file of dir carry entry. It reports the file it
// chained the plugin into ("" when there is no configuration yet) and
// whether it wrote anything.
func chain(dir, name, originalPath string, entry []byte) (string, bool, error) {
	file, err := primaryFile(dir, name)
	if err != nil || file == "" {
		return "", false, err
	}
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", false, err
	}
	written, out, err := Insert(file, data, entry)
	if err != nil {
		return "", false, err
	}
	if written == file && bytes.Equal(out, data) {
		return file, false, nil
	}
	if !Has(file, data) {
		// The primary CNI's own file, new or rewritten: the one to give
		// back.
		o := original{Name: file, Written: written, Data: data, Mode: uint32(info.Mode().Perm())}
		if err := o.save(originalPath); err != nil {
			return "", false, err
		}
	}
	if err := writeAtomic(filepath.Join(dir, written), out, info.Mode().Perm()); err != nil {
		return "", false, err
	}
	if written != file {
		if err := os.Remove(path); err != nil {
			return "", false, fmt.Errorf("removing %s, now %s: %w", path, written, err)
		}
	}
	return written, true, nil
}

// unchain removes the plugin from every configuration file of dir. The
// file the agent chained it into, unchanged since, is given back as it
// was found; any other file carrying the plugin loses just its entry.
func unchain(dir, originalPath string, entry []byte) error {
	o, err := loadOriginal(originalPath)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading the CNI conf folder: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !slices.Contains(confExtensions, filepath.Ext(name)) {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil || !Has(name, data) {
			continue
		}
		if o != nil && o.Written == name {
			if written, out, err := Insert(o.Name, o.Data, entry); err == nil && written == name && bytes.Equal(out, data) {
				if err := writeAtomic(filepath.Join(dir, o.Name), o.Data, os.FileMode(o.Mode)); err != nil {
					errs = append(errs, err)
					continue
				}
				if o.Name != name {
					if err := os.Remove(path); err != nil {
						errs = append(errs, err)
					}
				}
				continue
			}
		}
		out, _, err := Remove(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := writeAtomic(path, out, info.Mode().Perm()); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(originalPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
