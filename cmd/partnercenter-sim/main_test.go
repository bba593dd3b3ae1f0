package main

import (
	"strings"
	"testing"
)

func TestFlagsRejected(t *testing.T) {
	for _, args := range [][]string{
		{"--throttle-rate", "1.5"},
		{"--error-rate", "-0.1"},
		{"--provisioning-delay", "-1s"},
		{"--client-credentials", "no-secret"},
		{"--listen", "not-an-address"},
		{"--no-such-flag"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%s was accepted", strings.Join(args, " "))
		}
	}
}

func TestHelp(t *testing.T) {
	if err := run([]string{"--help"}); err != nil {
		t.Errorf("--help: %v", err)
	}
}
