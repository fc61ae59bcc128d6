// Command devstack runs the platform locally (`make dev`): Temporal dev server, referential
// loaded with the ROME data, intake, notifications, the console and the worker. A member that
// crashes is restarted, with backoff; Ctrl-C stops it all.
//
//	devstack                          run the stack (configured by the environment, see README)
//	devstack temporal                 run Temporal alone, as the stack would (make temporal-cluster)
//	devstack search-attributes-script FILE...  write the search-attribute registration script (go generate)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/plateforme-rome/rome/tools/devstack"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "temporal" {
		os.Exit(run(devstack.StartTemporal, (*devstack.Stack).TemporalSummary))
	}
	if len(os.Args) > 1 {
		if os.Args[1] != "search-attributes-script" || len(os.Args) < 3 {
			fmt.Fprintln(os.Stderr, "usage: devstack [temporal | search-attributes-script FILE...]")
			os.Exit(2)
		}
		for _, path := range os.Args[2:] {
			if err := os.WriteFile(path, []byte(devstack.SearchAttributesScript()), 0o755); err != nil {
				fmt.Fprintln(os.Stderr, "devstack:", err)
				os.Exit(1)
			}
		}
		return
	}
	os.Exit(run(devstack.Start, (*devstack.Stack).Summary))
}

// run starts a stack with start, prints its summary and runs it until a signal.
func run(start func(context.Context, devstack.Options) (*devstack.Stack, error), summary func(*devstack.Stack) string) int {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	opts, err := devstack.OptionsFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	opts.Log = os.Stdout
	opts.ChildOutput = os.Stdout
	opts.RestartCrashed = true
	stack, err := start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 1
	}
	fmt.Print(summary(stack))

	<-ctx.Done()
	fmt.Println("devstack: stopping (Ctrl-C again to kill at once)")
	// Restore the default handling, so a second Ctrl-C kills devstack (and, with it, the children).
	stopSignals()
	if err := stack.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
	}
	return 0
}
