package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// The README shows this program; the two must not drift apart.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(readme)
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || !bytes.Equal(m[1], src) {
		t.Error("the README's first Go block differs from examples/minimal/main.go")
	}
}

// TestBots runs the program's test command, as "go run . test" does. On a
// bot failure the program exits 1, which fails this test binary.
func TestBots(t *testing.T) {
	args := os.Args
	defer func() { os.Args = args }()
	os.Args = []string{"minimal", "test"}
	t.Chdir(t.TempDir())
	main()
}
