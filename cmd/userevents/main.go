// Command userevents serves the Huawei Cloud Workspace user-events API,
// a built-in LTS and an IAM endpoint from one process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `userevents serves the Workspace user-events API, a built-in LTS and IAM.

Usage:
  userevents serve [flags]          start the server (see userevents serve -h)
  userevents events list|post|import  list or record events (signed like the SDK)
  userevents lts get|set            show or change the LTS delivery setting
  userevents iam users|keys|groups|policies …  manage IAM users, access keys, groups, policies
  userevents config check [flags]   report every problem of the serve configuration
  userevents backup [--data DIR] OUT   copy the embedded database while the server runs
  userevents restore [--data DIR] FROM replace the database with a backup; server stopped
  userevents version                print the version
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "userevents:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeFlags(args[1:], os.Getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, "Usage: userevents config check [serve flags]\n")
			return errUsage
		}
		return checkConfig(args[2:], os.Getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], os.Getenv, stdout, stderr)
	case "restore":
		return runRestore(args[1:], os.Getenv, stdout, stderr)
	case "events":
		return runEvents(args[1:], os.Getenv, stdout, stderr)
	case "lts":
		return runLTS(args[1:], os.Getenv, stdout, stderr)
	case "iam":
		return runIAM(args[1:], os.Getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "userevents", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "userevents: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
