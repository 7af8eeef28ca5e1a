package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
	"github.com/planeless/planeless/templates"
)

// injectorFlags are the injection defaults a cluster operator sets; webhook,
// inject and render share them so the CLI reproduces a configured webhook.
// Each flag parses with its proxy.Settings parser, the one the chart's
// values and the pods' annotations go through too.
type injectorFlags struct {
	defaults  proxy.Defaults
	templates string
}

func (f *injectorFlags) bind(fs *pflag.FlagSet) {
	f.defaults = proxy.DefaultDefaults()
	fs.StringVar(&f.templates, "templates", "", "folder with proxy.yaml and init.yaml overriding the built-in container templates")
	for _, s := range proxy.Settings {
		fs.Var(s.Bind(&f.defaults), s.Flag, s.Usage)
		if s.Bool {
			fs.Lookup(s.Flag).NoOptDefVal = "true"
		}
	}
}

// injector checks the defaults together and loads the templates: the
// injector every command goes through.
func (f *injectorFlags) injector() (*inject.Injector, error) {
	if err := f.defaults.Validate(); err != nil {
		return nil, fmt.Errorf("invalid injection defaults: %w", err)
	}
	set := templates.Default()
	if f.templates != "" {
		var err error
		if set, err = templates.Load(f.templates); err != nil {
			return nil, fmt.Errorf("--templates=%s: %w", f.templates, err)
		}
	}
	return &inject.Injector{Defaults: f.defaults, Templates: set}, nil
}
