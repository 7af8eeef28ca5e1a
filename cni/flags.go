package cni

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/planeless/planeless/iptables"
)

// BindValidateFlags binds the flags of `planeless validate`: the
// iptables.Config flags of `planeless init` and --copy-to. The plugin reads
// a pod's configuration back from them with ParseValidateArgs.
func BindValidateFlags(fs *pflag.FlagSet, c *iptables.Config, copyTo *string) {
	c.BindFlags(fs)
	fs.StringVar(copyTo, "copy-to", "", "also copy this binary to this path (a volume the proxy mounts), for the proxy's preStop `planeless drain`")
}

// ParseValidateArgs returns the iptables.Config that args, the arguments
// of a planeless-validate container, carry.
func ParseValidateArgs(args []string) (iptables.Config, error) {
	c := iptables.DefaultConfig()
	var copyTo string
	fs := pflag.NewFlagSet("planeless validate", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	BindValidateFlags(fs, &c, &copyTo)
	if err := fs.Parse(args); err != nil {
		return iptables.Config{}, fmt.Errorf("parsing the arguments of the validate container: %w", err)
	}
	if err := c.Validate(); err != nil {
		return iptables.Config{}, fmt.Errorf("the arguments of the validate container: %w", err)
	}
	return c, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
