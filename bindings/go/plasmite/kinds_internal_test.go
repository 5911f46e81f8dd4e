package plasmite

import "testing"

// The kinds' names and codes agree with the linked library (Internal cannot be caused on purpose,
// so its code and name are checked here instead).
func TestKindNamesAndCodesMatchTheLibrary(t *testing.T) {
	for k := Kind(0); k <= KindRetentionGap; k++ {
		if got := libKindName(int32(k)); got != k.String() {
			t.Errorf("code %d: library says %q, Go says %q", k, got, k.String())
		}
		if k > 0 && kindFromName(k.String()) != k {
			t.Errorf("kindFromName(%q) != %d", k.String(), k)
		}
	}
	if got := libKindName(99); got != "Unknown" {
		t.Errorf("an unknown code is %q", got)
	}
	if v := libABIVersion(); v>>16 != abiMajor || v&0xffff < abiMinor {
		t.Errorf("library ABI %#x, package built for %d.%d", v, abiMajor, abiMinor)
	}
}
