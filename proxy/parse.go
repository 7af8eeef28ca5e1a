package proxy

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var logLevels = []string{"trace", "debug", "info", "warning", "error", "critical", "off"}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "enabled":
		return true, nil
	case "false", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return n, nil
}

func setQuantity(list *corev1.ResourceList, name corev1.ResourceName, v string) error {
	q, err := resource.ParseQuantity(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("not a quantity")
	}
	if q.Sign() <= 0 {
		return fmt.Errorf("must be greater than zero")
	}
	if *list == nil {
		*list = corev1.ResourceList{}
	}
	(*list)[name] = q
	return nil
}
