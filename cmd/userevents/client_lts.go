package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"
)

const ltsUsage = `Usage:
  userevents lts get [flags]                                     show the delivery setting
  userevents lts set --enable --group ID --stream ID [flags]     deliver events to a log stream
  userevents lts set --disable [flags]                           stop delivery
`

// runLTS runs an lts subcommand.
func runLTS(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, ltsUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "get" && args[0] != "set") {
		fmt.Fprint(stderr, ltsUsage)
		return errUsage
	}
	c := &client{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("userevents lts "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	profilePath := clientFlags(fs, c)
	enable := fs.Bool("enable", false, "enable delivery (set)")
	disable := fs.Bool("disable", false, "disable delivery (set)")
	group := fs.String("group", "", "log group id (set --enable)")
	stream := fs.String("stream", "", "log stream id (set --enable)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if err := c.resolve(*profilePath, getenv); err != nil {
		return err
	}
	ws := c.workspace()

	if args[0] == "set" {
		if *enable == *disable {
			return errors.New("give exactly one of --enable and --disable")
		}
		body := &wsmodel.SetUserEventsLtsConfigurationsRequestBody{Enable: *enable}
		if *group != "" {
			body.LogGroupId = group
		}
		if *stream != "" {
			body.LogStreamId = stream
		}
		if _, err := ws.SetUserEventsLtsConfigurations(&wsmodel.SetUserEventsLtsConfigurationsRequest{Body: body}); err != nil {
			return fmt.Errorf("set LTS configuration: %w", sdkError(err))
		}
	}

	resp, err := ws.ListUserEventsLtsConfigurations(&wsmodel.ListUserEventsLtsConfigurationsRequest{})
	if err != nil {
		return fmt.Errorf("get LTS configuration: %w", sdkError(err))
	}
	if c.output == "json" {
		return c.printJSON(resp)
	}
	str := func(p *string) string {
		if p == nil || *p == "" {
			return "-"
		}
		return *p
	}
	fmt.Fprintf(stdout, "enable:        %t\nlog_group_id:  %s\nlog_stream_id: %s\n",
		resp.Enable != nil && *resp.Enable, str(resp.LogGroupId), str(resp.LogStreamId))
	return nil
}
