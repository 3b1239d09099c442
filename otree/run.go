package otree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Run runs the command named by the program's arguments and exits: 0 on
// success, 1 on failure, 2 on a usage mistake. It is the whole main
// function of an experiment:
//
//	func main() { otree.Run(project) }
//
// The commands are listed by the help command. Settings come from the
// environment, with oTree's names: DATABASE_URL (a postgres:// URL; unset
// means the embedded SQLite file db.sqlite3), REDIS_URL (set means the
// Redis channel layer and the asynq timeout worker, shared by several
// processes), PORT, OTREE_PRODUCTION, OTREE_AUTH_LEVEL and OTREE_REST_KEY.
//
// Unless GOGC is set, Run sets the garbage collector's target to
// [GCPercent]: a server's live heap is small and it allocates quickly, so
// Go's default of 100 collects so often that it costs about a third of the
// throughput.
func Run(p *Project) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := p.Command(ctx, os.Args[1:], os.Stdout)
	stop()
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// GCPercent is the garbage collector target that Run sets; see
// [runtime/debug.SetGCPercent].
const GCPercent = 400

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg + "\n\n" + usage }

const usage = `usage: <program> <command> [arguments]

commands:
  devserver [addr] [--noworker]
        the web server with 4 channels-worker goroutines and the timeout
        worker, in one process (default address localhost:8000); alias
        runserver. --noworker starts the web server alone.
  prodserver [port]
        the processes of ./Procfile, each line of their output prefixed
        with its name; without a Procfile, every component in one process
        on 0.0.0.0:PORT; alias runprodserver
  develop [addr]
        the web server, the channels worker and the timeout worker as
        three processes (needs REDIS_URL)
  runchannelsworker [--num-threads=N]
        channels workers only, N of them (default 4; needs REDIS_URL)
  runtimeoutworker
        the timeout worker only (needs REDIS_URL); alias runceleryworker
  runworker [--num-threads=N]
        the channels workers and the timeout worker (needs REDIS_URL)
  resetdb [--yes]
        drop and recreate every table, after asking
  test [CONFIG] [N]
        play session configs with their bots on a temporary database that
        is removed afterwards; every config if none named; alias bots
  bots --url URL CONFIG N [--session-size=S] [--ramp=D] [--rest-key=K]
        play N participants of CONFIG against the server at URL, over
        HTTP and WebSockets as browsers do, and report requests/s and
        latency: a load test`

// Command runs one command with its arguments, writing reports to out. It
// returns when the command is done or ctx is cancelled.
func (p *Project) Command(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return &usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "devserver", "runserver":
		return p.devserver(ctx, rest, out)
	case "prodserver", "runprodserver":
		return p.prodserver(ctx, rest, out)
	case "develop":
		return p.develop(ctx, rest, out)
	case "runchannelsworker":
		return p.runWorkers(ctx, cmd, rest, out, true, false)
	case "runtimeoutworker", "runceleryworker":
		return p.runWorkers(ctx, cmd, rest, out, false, true)
	case "runworker":
		return p.runWorkers(ctx, cmd, rest, out, true, true)
	case "resetdb":
		return p.resetdb(ctx, rest, out)
	case "test":
		return p.test(ctx, rest, out)
	case "bots":
		if slices.ContainsFunc(rest, func(a string) bool { return strings.HasPrefix(a, "--url") }) {
			return remoteBots(ctx, rest, out)
		}
		return p.test(ctx, rest, out)
	case "help", "-h", "--help":
		fmt.Fprintln(out, usage)
		return nil
	}
	return &usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// envOptions reads the server settings from the environment.
func envOptions() ServerOptions {
	prod := os.Getenv("OTREE_PRODUCTION")
	return ServerOptions{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Production:  prod != "" && prod != "0",
		RedisURL:    os.Getenv("REDIS_URL"),
		AuthLevel:   os.Getenv("OTREE_AUTH_LEVEL"),
		RestKey:     os.Getenv("OTREE_REST_KEY"),
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
}

// listenAddr turns "8000", ":8000", "host:8000" or "" (PORT, else
// localhost:8000) into an address.
func listenAddr(arg string) (string, error) {
	if arg == "" {
		if port := os.Getenv("PORT"); port != "" {
			return "0.0.0.0:" + port, nil
		}
		return "localhost:8000", nil
	}
	if _, err := strconv.Atoi(arg); err == nil {
		return "localhost:" + arg, nil
	}
	if _, _, err := net.SplitHostPort(arg); err != nil {
		return "", &usageError{fmt.Sprintf("address %q is not a port or host:port", arg)}
	}
	return arg, nil
}

// serve runs an HTTP server until ctx is done, then shuts it down.
func serve(ctx context.Context, h http.Handler, addr string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "gotree: serving on http://%s (Ctrl+C to stop)\n", displayAddr(addr, ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

// displayAddr is the address to show for a listener on addr: the host as
// given (localhost stays localhost) with the port the listener got.
func displayAddr(addr string, got net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	_, port, err2 := net.SplitHostPort(got.String())
	if err != nil || err2 != nil || host == "" {
		return got.String()
	}
	return net.JoinHostPort(host, port)
}

func (p *Project) test(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 2 {
		return &usageError{"test takes at most a config name and a number of participants"}
	}
	var configs []string
	n := 0
	if len(args) >= 1 {
		configs = []string{args[0]}
	}
	if len(args) == 2 {
		var err error
		if n, err = strconv.Atoi(args[1]); err != nil || n <= 0 {
			return &usageError{fmt.Sprintf("number of participants %q is not a positive number", args[1])}
		}
	}
	if configs == nil {
		for _, c := range p.SessionConfigs {
			configs = append(configs, c.Name)
		}
	}
	return p.testConfigs(ctx, configs, n, out)
}

// testConfigs plays each config's bots on a fresh database, prints each
// participant's payoff and a table of the sessions, and fails if any bot
// failed.
func (p *Project) testConfigs(ctx context.Context, configs []string, n int, out io.Writer) error {
	dir, err := os.MkdirTemp("", "gotree-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := envOptions()
	opts.DatabaseURL, opts.RedisURL = "", ""
	opts.SQLitePath = filepath.Join(dir, "bots.sqlite3")
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := NewServer(p, &opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	var reports []*BotReport
	failed := 0
	for _, c := range configs {
		rep, err := srv.PlayBots(ctx, SessionOptions{Config: c, Participants: n})
		if err != nil {
			return err
		}
		rep.Print(out)
		reports = append(reports, rep)
		failed += len(rep.Failures)
	}
	printSummary(out, reports)
	if failed > 0 {
		return fmt.Errorf("%d bot failure(s)", failed)
	}
	return nil
}

// printSummary writes a table with a row per bot session.
func printSummary(out io.Writer, reports []*BotReport) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCONFIG\tCASE\tPARTICIPANTS\tRESULT")
	for _, r := range reports {
		for _, s := range r.Sessions {
			result := "ok"
			for _, f := range r.Failures {
				if f.Case == s.Case || s.Case == "" {
					result = "FAIL"
				}
			}
			c := s.Case
			if c == "" {
				c = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Config, c, len(s.Participants), result)
		}
	}
	tw.Flush()
}
