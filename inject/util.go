package inject

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ptr is here until the container-building code in inject.go, which other
// changes are under way in, moves to k8s.io/utils/ptr.
func ptr[T any](v T) *T { return &v }

func intOrString(port uint16) intstr.IntOrString { return intstr.FromInt32(int32(port)) }

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: path},
	}}
}
