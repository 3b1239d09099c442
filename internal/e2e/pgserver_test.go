package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gotree/gotree/otree/otreetest"
)

// A pgServer is a Postgres cluster of the test's own, which the test may
// stop and start without disturbing the tests using the shared server. Its
// data, unix socket and log are in a fresh temporary directory; it listens
// on 127.0.0.1 on a free port, trusts every local connection and holds a
// database named test.
type pgServer struct {
	bin  string // the directory of initdb, pg_ctl and createdb
	dir  string
	port string

	// user is the system user the programs run as, through runuser, when
	// the test runs as root, which initdb refuses; "" runs them as the
	// test's own user.
	user string
}

// pgBinGlob matches the directories of the Postgres programs on Debian and
// Ubuntu, which keep them off $PATH.
const pgBinGlob = "/usr/lib/postgresql/*/bin"

// newPostgres creates and starts a private cluster. It is stopped and
// removed when the test ends, however the test ends. Without the Postgres
// programs, or as root without runuser, the test is skipped (failed under
// CI=true).
func newPostgres(t *testing.T) *pgServer {
	t.Helper()
	s := &pgServer{bin: postgresBin(t)}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		s.user = "postgres"
		uid, gid = runAs(t, s.user)
	}
	dir, err := os.MkdirTemp("", "gotree-e2e-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() { s.remove(t) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	_, s.port, _ = net.SplitHostPort(closedPort(t))

	// The settings go to postgresql.conf, so that every start uses them.
	// fsync is off: the data does not outlive the test.
	err = s.run("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync")
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %s\n"+
		"unix_socket_directories = '%s'\nfsync = off\n", s.port, s.dir)
	if err := appendFile(filepath.Join(s.data(), "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if err := s.run("createdb", "-h", "127.0.0.1", "-p", s.port, "-U", "postgres", "test"); err != nil {
		t.Fatal(err)
	}
	return s
}

// postgresBin returns the directory of the newest Postgres programs under
// pgBinGlob, else that of initdb on $PATH.
func postgresBin(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(pgBinGlob, "initdb"))
	if len(dirs) > 0 {
		// The version directories are named 9.6, 15, 16...
		version := func(i int) float64 {
			v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))), 64)
			return v
		}
		sort.Slice(dirs, func(i, j int) bool { return version(i) < version(j) })
		return filepath.Dir(dirs[len(dirs)-1])
	}
	path, err := exec.LookPath("initdb")
	if err != nil {
		otreetest.Unavailable(t, "Postgres's initdb", pgBinGlob+" or $PATH", err,
			"apt-get install postgresql")
	}
	return filepath.Dir(path)
}

// runAs checks that the programs can run as the named system user, with
// runuser, and returns the user's ids.
func runAs(t *testing.T, name string) (uid, gid int) {
	t.Helper()
	if _, err := exec.LookPath("runuser"); err != nil {
		otreetest.Unavailable(t, "runuser", "$PATH", err, "apt-get install util-linux")
	}
	u, err := user.Lookup(name)
	if err != nil {
		otreetest.Unavailable(t, "the user "+name, "/etc/passwd", err, "apt-get install postgresql")
	}
	uid, err = strconv.Atoi(u.Uid)
	if err == nil {
		gid, err = strconv.Atoi(u.Gid)
	}
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return uid, gid
}

func appendFile(name, s string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	return err
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }
func (s *pgServer) log() string  { return filepath.Join(s.dir, "postgres.log") }

// url returns the DATABASE_URL of the cluster's test database.
func (s *pgServer) url() string {
	return "postgres://postgres@127.0.0.1:" + s.port + "/test?sslmode=disable"
}

// run runs one of the Postgres programs, in the cluster's directory: the
// user running it may not be able to enter the test's.
func (s *pgServer) run(name string, args ...string) error {
	path := filepath.Join(s.bin, name)
	cmd := exec.Command(path, args...)
	if s.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	}
	cmd.Dir = s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, indent(string(out)))
	}
	return nil
}

// start starts the cluster and waits until it accepts connections.
func (s *pgServer) start() error {
	return s.run("pg_ctl", "start", "-w", "-t", "30", "-D", s.data(), "-l", s.log())
}

// stop stops the cluster as an administrator would for a restart:
// connections are cut, and the server exits once it has written its data.
func (s *pgServer) stop() error {
	return s.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", s.data())
}

// remove stops the cluster if it runs and deletes its directory, logging
// the server's log if the test failed.
func (s *pgServer) remove(t *testing.T) {
	if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err == nil {
		if err := s.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", s.data()); err != nil {
			t.Errorf("stop the test's Postgres: %v", err)
		}
	}
	if t.Failed() {
		if b, err := os.ReadFile(s.log()); err == nil {
			t.Logf("log of the test's Postgres:\n%s", indent(string(b)))
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		t.Errorf("remove the test's Postgres: %v", err)
	}
}
