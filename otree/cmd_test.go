package otree

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type cmdSub struct {
	BaseSubsession[cmdSub, cmdGroup, cmdPlayer]
}
type cmdGroup struct {
	BaseGroup[cmdSub, cmdGroup, cmdPlayer]
}
type cmdPlayer struct {
	BasePlayer[cmdSub, cmdGroup, cmdPlayer]
}
type cmdPage struct{ Page }

var cmdProject = &Project{SessionConfigs: []SessionConfig{{
	Name: "one", Apps: []Application{&App[cmdSub, cmdGroup, cmdPlayer]{
		Name: "one", Pages: []AnyPage{cmdPage{}},
		Bot: func(b *Bot[cmdPlayer]) {},
	}},
	NumDemoParticipants: 1,
}}}

// countSessions opens the SQLite file and counts its sessions.
func countSessions(t *testing.T, path string) int64 {
	t.Helper()
	st, err := openStore("", path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	var n int64
	st.r.Model(&Session{}).Count(&n)
	return n
}

func TestResetdb(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REDIS_URL", "")
	srv, err := NewServer(cmdProject, &ServerOptions{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateSession(context.Background(), SessionOptions{Config: "one"}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	path, _ := filepath.Abs("db.sqlite3")

	t.Cleanup(func() { stdin = os.Stdin })
	// Any answer but yes leaves the data alone.
	stdin = strings.NewReader("no\n")
	var out bytes.Buffer
	if err := cmdProject.Command(context.Background(), []string{"resetdb"}, &out); err == nil {
		t.Error("resetdb answered no: succeeded, want an error")
	}
	if n := countSessions(t, path); n != 1 {
		t.Fatalf("after a refused resetdb: %d sessions, want 1", n)
	}

	stdin = strings.NewReader("yes\n")
	if err := cmdProject.Command(context.Background(), []string{"resetdb"}, &out); err != nil {
		t.Fatalf("resetdb: %v", err)
	}
	if n := countSessions(t, path); n != 0 {
		t.Errorf("after resetdb: %d sessions, want 0", n)
	}
	if err := cmdProject.Command(context.Background(), []string{"resetdb", "--yes"}, &out); err != nil {
		t.Errorf("resetdb --yes: %v", err)
	}
}

func TestCommandUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"nosuch"}, {"test", "a", "b", "c"}, {"test", "one", "zero"},
		{"devserver", "not an address"}, {"runworker", "--num-threads=0"}} {
		err := cmdProject.Command(context.Background(), args, &bytes.Buffer{})
		if _, ok := err.(*usageError); !ok {
			t.Errorf("Command(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestWorkersNeedRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	for _, args := range [][]string{{"runchannelsworker"}, {"runtimeoutworker"}, {"runworker"},
		{"develop"}, {"devserver", "--noworker"}} {
		cmd := strings.Join(args, " ")
		err := cmdProject.Command(context.Background(), args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
			t.Errorf("%s without REDIS_URL: %v, want an error naming REDIS_URL", cmd, err)
		}
	}
}

type cmdForm struct{ Page }

func (cmdForm) FormFields() []string { return []string{"Age"} }

type cmdFormPlayer struct {
	BasePlayer[cmdFormSub, cmdFormGroup, cmdFormPlayer]
	Age int `max:"120"`
}
type cmdFormSub struct {
	BaseSubsession[cmdFormSub, cmdFormGroup, cmdFormPlayer]
}
type cmdFormGroup struct {
	BaseGroup[cmdFormSub, cmdFormGroup, cmdFormPlayer]
}

// A broken bot makes test fail, and the report names the config, case,
// participant, app, round and page.
func TestTestCommandFailsOnBrokenBot(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REDIS_URL", "")
	tests := []struct {
		name string
		bot  func(b *Bot[cmdFormPlayer])
		page string // the page the report names
		want string
	}{
		{"wrong expectation", func(b *Bot[cmdFormPlayer]) {
			b.Submit(cmdForm{}, Values{"Age": 30})
			b.Expect(b.Player().Payoff, Cu(5))
		}, "cmdPage", "expected 5 points"},
		{"crash", func(b *Bot[cmdFormPlayer]) {
			var m map[string]int
			m["x"] = 1
		}, "cmdForm", "panic: assignment to entry in nil map"},
		{"stops early", func(b *Bot[cmdFormPlayer]) {}, "cmdForm", "stopped early, on page cmdForm"},
		// The report names the page submitted, not the one the bot got to.
		{"must-fail accepted", func(b *Bot[cmdFormPlayer]) {
			b.SubmitMustFail(cmdForm{}, Values{"Age": 30})
		}, "cmdForm", "SubmitMustFail: cmdForm accepted age=30"},
		{"valid submission rejected", func(b *Bot[cmdFormPlayer]) {
			b.Submit(cmdForm{}, Values{"Age": 130})
		}, "cmdForm", "submission of cmdForm was rejected"},
		{"wrong page", func(b *Bot[cmdFormPlayer]) {
			b.Submit(cmdPage{})
		}, "cmdForm", "tried to submit cmdPage"},
		{"errorf goes on", func(b *Bot[cmdFormPlayer]) {
			b.Errorf("noted")
			b.Submit(cmdForm{}, Values{"Age": 30})
			b.Expect(b.Player().Age, 30)
		}, "cmdForm", "noted"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("form%d", i)
			p := &Project{SessionConfigs: []SessionConfig{{
				Name: name, Apps: []Application{&App[cmdFormSub, cmdFormGroup, cmdFormPlayer]{
					Name: name, Pages: []AnyPage{cmdForm{}, cmdPage{}},
					Bot: tt.bot, BotCases: []string{"only"},
				}},
				NumDemoParticipants: 1,
			}}}
			var out bytes.Buffer
			if err := p.Command(context.Background(), []string{"test"}, &out); err == nil {
				t.Fatalf("test succeeded; report:\n%s", out.String())
			}
			for _, w := range []string{"config " + name, "case only", "participant P1",
				"app " + name + " round 1", "page " + tt.page + ":", tt.want} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report %q lacks %q", out.String(), w)
				}
			}
			if n := strings.Count(out.String(), "FAIL bot failed"); n != 1 {
				t.Errorf("report has %d failures, want 1:\n%s", n, out.String())
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
