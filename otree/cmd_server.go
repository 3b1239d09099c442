package otree

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gotree/gotree/internal/procs"
)

// stdin is where resetdb reads its confirmation.
var stdin io.Reader = os.Stdin

// procfileChild marks processes started from a Procfile, so that a
// Procfile entry running prodserver does not start the Procfile again.
const procfileChild = "GOTREE_PROCFILE_CHILD"

// parseFlags parses a command's flags, allowing them after its arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, &usageError{fs.Name() + ": " + err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (p *Project) devserver(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("devserver", flag.ContinueOnError)
	noWorker := fs.Bool("noworker", false, "start the web server alone")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return &usageError{"devserver takes at most one address"}
	}
	addr, err := listenAddr(first(pos))
	if err != nil {
		return err
	}
	opts := envOptions()
	if *noWorker {
		if opts.RedisURL == "" {
			return errors.New("devserver --noworker needs REDIS_URL: the workers it leaves out " +
				"must run in other processes, which share the channel layer and the deadlines " +
				"through Redis")
		}
		opts.Workers, opts.NoTimeoutWorker = -1, true
	}
	return p.serveWith(ctx, opts, addr, out)
}

// serveWith starts a server with opts and serves HTTP on addr until ctx
// is done.
func (p *Project) serveWith(ctx context.Context, opts ServerOptions, addr string, out io.Writer) error {
	srv, err := NewServer(p, &opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(out, "gotree: %s\n", describe(opts))
	return serve(ctx, srv.Handler(), addr, out)
}

// describe says which components a process runs, and on what.
func describe(o ServerOptions) string {
	var parts []string
	if o.Workers >= 0 {
		parts = append(parts, fmt.Sprintf("%d channels workers", max(o.Workers, 4)))
	}
	if !o.NoTimeoutWorker {
		parts = append(parts, "timeout worker")
	}
	layer := "in-memory channel layer, in-process deadlines"
	if o.RedisURL != "" {
		layer = "Redis " + redactURL(o.RedisURL) + " (channel layer and asynq)"
	}
	db := "SQLite " + o.SQLitePath
	if o.DatabaseURL != "" {
		db = "Postgres " + redactURL(o.DatabaseURL)
	}
	if o.SQLitePath == "" && o.DatabaseURL == "" {
		db = "SQLite db.sqlite3"
	}
	what := "web server"
	if len(parts) > 0 {
		what += " with " + strings.Join(parts, " and ")
	}
	return what + "; " + layer + "; " + db
}

// runWorkers runs channels workers, the timeout worker, or both, without a
// web server, until ctx is done. They need REDIS_URL: without it the
// channel layer and the deadlines live inside the web process.
func (p *Project) runWorkers(ctx context.Context, name string, args []string, out io.Writer,
	chans, deadlines bool) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	threads := fs.Int("num-threads", 4, "channels workers")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *threads < 1 {
		return &usageError{name + " takes only --num-threads=N, with N at least 1"}
	}
	opts := envOptions()
	if opts.RedisURL == "" {
		return fmt.Errorf("%s needs REDIS_URL: without Redis, the channel layer and page "+
			"deadlines live inside the web process (devserver)", name)
	}
	opts.Workers, opts.NoTimeoutWorker = -1, !deadlines
	if chans {
		opts.Workers = *threads
	}
	srv, err := NewServer(p, &opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	what := []string{}
	if chans {
		what = append(what, fmt.Sprintf("%d channels workers", *threads))
	}
	if deadlines {
		what = append(what, "the timeout worker")
	}
	fmt.Fprintf(out, "gotree: running %s on %s (Ctrl+C to stop)\n", strings.Join(what, " and "),
		redactURL(opts.RedisURL))
	<-ctx.Done()
	return nil
}

// develop runs the web server, the channels worker and the timeout worker
// as three processes of this program.
func (p *Project) develop(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 1 {
		return &usageError{"develop takes at most one address"}
	}
	addr, err := listenAddr(first(args))
	if err != nil {
		return err
	}
	if os.Getenv("REDIS_URL") == "" {
		return errors.New("develop needs REDIS_URL: its three processes share the channel " +
			"layer and the deadlines through Redis")
	}
	if err := p.prepare(ctx); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	q := shellQuote(exe)
	return procs.Run(ctx, []procs.Proc{
		{Name: "web", Command: q + " runserver " + shellQuote(addr) + " --noworker"},
		{Name: "channels", Command: q + " runchannelsworker"},
		{Name: "timeouts", Command: q + " runtimeoutworker"},
	}, nil, out, 5*time.Second)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// prodserver runs ./Procfile's processes, or every component in one
// process, with production settings.
func (p *Project) prodserver(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 1 {
		return &usageError{"prodserver takes at most a port"}
	}
	if os.Getenv("OTREE_PRODUCTION") == "" {
		os.Setenv("OTREE_PRODUCTION", "1")
	}
	var env []string
	if len(args) == 1 {
		env = append(env, "PORT="+args[0])
	}
	if f, err := os.Open("Procfile"); err == nil && os.Getenv(procfileChild) == "" {
		list, err := procs.ParseProcfile(f)
		f.Close()
		if err != nil {
			return err
		}
		if err := p.prepare(ctx); err != nil {
			return err
		}
		fmt.Fprintf(out, "gotree: running the %d processes of ./Procfile\n", len(list))
		return procs.Run(ctx, list, append(env, procfileChild+"=1"), out, 10*time.Second)
	}
	port := os.Getenv("PORT")
	if len(args) == 1 {
		port = args[0]
	}
	if port == "" {
		port = "8000"
	}
	return p.serveWith(ctx, envOptions(), "0.0.0.0:"+port, out)
}

// prepare checks Redis, if REDIS_URL is set, and creates or extends the
// tables once, before several processes start at the same time.
func (p *Project) prepare(ctx context.Context) error {
	opts := envOptions()
	if opts.RedisURL != "" {
		ctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
		defer cancel()
		if err := pingRedis(ctx, opts.RedisURL); err != nil {
			return err
		}
	}
	e, err := newEngine(p, opts)
	if err != nil {
		return err
	}
	return e.store.close()
}

// resetdb drops and recreates every table, after the user confirms.
func (p *Project) resetdb(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("resetdb", flag.ContinueOnError)
	yes := fs.Bool("yes", false, "do not ask")
	if pos, err := parseFlags(fs, args); err != nil || len(pos) > 0 {
		return &usageError{"resetdb takes only --yes"}
	}
	opts := envOptions()
	where := "the SQLite file db.sqlite3"
	if opts.DatabaseURL != "" {
		where = redactURL(opts.DatabaseURL)
	}
	if !*yes {
		fmt.Fprintf(out, "This deletes every session and all data in %s.\nType yes to go on: ", where)
		answer, _ := bufio.NewReader(stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			return errors.New("resetdb cancelled; nothing was changed")
		}
	}
	kinds, err := p.check()
	if err != nil {
		return err
	}
	st, err := openStore(opts.DatabaseURL, opts.SQLitePath)
	if err != nil {
		return err
	}
	defer st.close()
	apps := projectApps(p, kinds)
	if err := st.dropAll(apps); err != nil {
		return err
	}
	if err := st.migrate(apps); err != nil {
		return err
	}
	fmt.Fprintf(out, "gotree: dropped and recreated every table in %s\n", where)
	return nil
}
