package sim

import "testing"

// A dialed relay's end first reads what its client sent last.
func TestSettleReadsTheRest(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := listenUDP(s, "127.0.0.1:0", "127.0.0.1:9", true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if !r.settle() {
		t.Error("settle did not see its own datagram")
	}
}
