package token

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
)

// TestPythonReadsToken: a Python reader written from docs/PROTOCOL.md, with
// python3-nacl, reads the public part and opens the sealed part of a token,
// which proves the documented layout.
func TestPythonReadsToken(t *testing.T) {
	const python = "/usr/bin/python3" // the system one, which has Debian's python3-nacl
	if err := exec.Command(python, "-c", "import nacl.bindings").Run(); err != nil {
		t.Skipf("needs %s with python3-nacl (Debian: apt-get install python3-nacl): %v", python, err)
	}
	c := testClaims()
	c.ClientID = 1<<63 + 5
	tok, p := issue(t, c)
	out, err := exec.Command(python, "testdata/read_token.py", hex.EncodeToString(tok), testKey.Format()).Output()
	if err != nil {
		t.Fatalf("read_token.py: %v", err)
	}
	var got struct {
		CreatedMs               uint64   `json:"created_ms"`
		ExpiresMs               uint64   `json:"expires_ms"`
		ID                      string   `json:"id"`
		Servers                 []string `json:"servers"`
		ClientToServerKey       string   `json:"client_to_server_key"`
		ServerToClientKey       string   `json:"server_to_client_key"`
		Ticket                  string   `json:"ticket"`
		ClientID                uint64   `json:"client_id"`
		SealedClientToServerKey string   `json:"sealed_client_to_server_key"`
		SealedServerToClientKey string   `json:"sealed_server_to_client_key"`
		UserData                string   `json:"user_data"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	t.Logf("%s", out)
	if got.CreatedMs != uint64(t0.UnixMilli()) || got.ExpiresMs != uint64(c.Expires.UnixMilli()) ||
		got.ID != hex.EncodeToString(p.ID[:]) || !slices.Equal(got.Servers, c.Servers) ||
		got.ClientToServerKey != p.ClientToServer.Format() || got.ServerToClientKey != p.ServerToClient.Format() ||
		got.SealedClientToServerKey != got.ClientToServerKey || got.SealedServerToClientKey != got.ServerToClientKey ||
		got.Ticket != hex.EncodeToString(p.Ticket) || got.ClientID != c.ClientID || got.UserData != hex.EncodeToString(c.UserData) {
		t.Errorf("Python read %+v", got)
	}
}
