package podcmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CopySelf copies the running binary to path, executable by anyone, whole
// or not at all.
func CopySelf(path string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	in, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("copying this binary: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planeless-")
	if err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("copying this binary to %s: %w", path, err)
	}
	return nil
}
