package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/planeless/planeless/bootstrap"
	"github.com/planeless/planeless/inject"
	"github.com/planeless/planeless/proxy"
)

func init() { subcommands = append(subcommands, newRenderCmd) }

func newRenderCmd() *cobra.Command {
	var flags injectorFlags
	var file, output string
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the Envoy bootstrap of the first pod in FILE",
		Long: `render prints the Envoy bootstrap the injector would give the first Pod or
workload pod template in FILE (- is standard input): as YAML, or with -o json
as the compact JSON the pod's planeless.dev/bootstrap annotation carries.`,
		Example: `  planeless render -f deploy.yaml
  planeless render -f pod.yaml | envoy --mode validate -c /dev/stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := openInput(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			obj, err := firstPodBearing(in)
			if err != nil {
				return err
			}
			pod, err := inject.PodOf(obj)
			if err != nil {
				return err
			}
			s, warnings, err := proxy.FromPod(pod, flags.defaults)
			for _, w := range warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
			}
			render := bootstrap.RenderYAML
			switch output {
			case "yaml":
			case "json":
				render = bootstrap.Render
			default:
				return fmt.Errorf("invalid --output %q: allowed: yaml, json", output)
			}
			out, err := render(s)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifests holding the pod, - for standard input")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "yaml, or json (what the pod's annotation carries)")
	_ = cmd.MarkFlagRequired("filename")
	flags.bind(cmd.Flags())
	return cmd
}

func firstPodBearing(r io.Reader) (*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var kinds []string
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no Pod or workload in the input (found: %s)", strings.Join(kinds, ", "))
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML: %w", err)
		}
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("parsing YAML document: %w", err)
		}
		if obj.Object == nil {
			continue
		}
		objs := []unstructured.Unstructured{obj}
		if obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				return nil, fmt.Errorf("reading list: %w", err)
			}
			objs = list.Items
		}
		for _, o := range objs {
			if inject.PodBearing(o.GetKind()) {
				return &o, nil
			}
			kinds = append(kinds, o.GetKind())
		}
	}
}
