package inject

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMembersSplitOneLevel(t *testing.T) {
	obj := ` { "a" : {"x":"}\"{"} , "b\u0022c":[1,{"y":[]}], "n":-1.5e3,"t":true,"z":null,"a":"last wins" } `
	got, err := members([]byte(obj))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{`a`: `"last wins"`, `b"c`: `[1,{"y":[]}]`, `n`: `-1.5e3`, `t`: `true`, `z`: `null`}
	gotText := map[string]string{}
	for k, v := range got {
		gotText[k] = string(v)
	}
	if diff := cmp.Diff(want, gotText); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"a":1`, `{"a" 1}`, `[1,`, `{"a":"}`, `[`, `{`} {
		if _, err := members([]byte(bad)); err == nil && bad[0] == '{' {
			t.Errorf("members(%s) found no error", bad)
		}
	}
	if got, _ := members([]byte(`{}`)); len(got) != 0 {
		t.Errorf("members({}) = %v", got)
	}
}
