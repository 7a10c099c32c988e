package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	wsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/workspace/v2/model"
)

const eventsUsage = `Usage:
  userevents events list [flags]          list events, newest first
  userevents events post [flags]          record one event
  userevents events import [flags] FILE   record the events of a JSON-lines file
`

// runEvents runs an events subcommand.
func runEvents(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, eventsUsage)
		return errUsage
	}
	c := &client{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("userevents events "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	profilePath := clientFlags(fs, c)
	switch args[0] {
	case "list":
		return c.listEvents(fs, args[1:], profilePath, getenv)
	case "post":
		return c.postEvent(fs, args[1:], profilePath, getenv)
	case "import":
		return c.importEvents(fs, args[1:], profilePath, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, eventsUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "userevents events: unknown command %q\n\n%s", args[0], eventsUsage)
		return errUsage
	}
}

func (c *client) listEvents(fs *flag.FlagSet, args []string, profilePath *string, getenv func(string) string) error {
	now := time.Now().UTC().Truncate(time.Second)
	start := fs.String("start", now.Add(-24*time.Hour).Format(time.RFC3339), "start of the range, RFC 3339")
	end := fs.String("end", now.Format(time.RFC3339), "end of the range, RFC 3339")
	username := fs.String("username", "", "only events of this user")
	eventType := fs.String("event-type", "", "only these event types, comma-separated")
	resourceID := fs.String("resource-id", "", "only events on this resource id")
	resourceName := fs.String("resource-name", "", "only events on this resource name")
	limit := fs.Int("limit", 100, "events per page, 0 to 1000")
	offset := fs.Int("offset", 0, "index of the first event")
	all := fs.Bool("all", false, "fetch every page")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := c.resolve(*profilePath, getenv); err != nil {
		return err
	}

	req := &wsmodel.ListUserEventsRequest{StartTime: *start, EndTime: *end}
	optional := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	req.Username, req.EventType = optional(*username), optional(*eventType)
	req.ResourceId, req.ResourceName = optional(*resourceID), optional(*resourceName)
	pageSize, from := int32(*limit), int32(*offset)
	req.Limit, req.Offset = &pageSize, &from

	ws := c.workspace()
	var items []wsmodel.UserEventRsp
	var count int32
	for {
		resp, err := ws.ListUserEvents(req)
		if err != nil {
			return fmt.Errorf("list events: %w", sdkError(err))
		}
		count = *resp.Count
		if resp.Items != nil {
			items = append(items, *resp.Items...)
		}
		if !*all || resp.Items == nil || len(*resp.Items) == 0 || int32(len(items))+*req.Offset-from >= count-from {
			break
		}
		next := *req.Offset + int32(len(*resp.Items))
		req.Offset = &next
	}

	if c.output == "json" {
		return c.printJSON(map[string]any{"count": count, "items": items})
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EVENT_TIME\tEVENT_TYPE\tUSERNAME\tRESOURCE\tSUCCESS\tCLIENT_IP")
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return printable(*p)
	}
	for _, e := range items {
		success := ""
		if e.IsSuccess != nil {
			success = strconv.FormatBool(*e.IsSuccess)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", str(e.EventTime), str(e.EventType), str(e.Username),
			str(e.ResourceName), success, str(e.ClientIp))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "%d of %d events\n", len(items), count)
	return nil
}

func (c *client) postEvent(fs *flag.FlagSet, args []string, profilePath *string, getenv func(string) string) error {
	event := map[string]any{}
	username := fs.String("username", "", "user name (required)")
	eventType := fs.String("type", "", "event type, such as LOGIN (required)")
	eventTime := fs.String("time", "", "event time, RFC 3339; default now")
	eventID := fs.String("event-id", "", "stable event id; a repeated id is ignored")
	resourceName := fs.String("resource-name", "", "name of the resource acted on")
	clientIP := fs.String("client-ip", "", "client IP address")
	success := fs.String("success", "", "whether it succeeded: true or false")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *username == "" || *eventType == "" {
		return errors.New("--username and --type are required")
	}
	if err := c.resolve(*profilePath, getenv); err != nil {
		return err
	}
	if *eventTime == "" {
		*eventTime = time.Now().UTC().Format(time.RFC3339Nano)
	}
	event["username"], event["event_type"], event["event_time"] = *username, *eventType, *eventTime
	for k, v := range map[string]string{"event_id": *eventID, "resource_name": *resourceName, "client_ip": *clientIP} {
		if v != "" {
			event[k] = v
		}
	}
	if *success != "" {
		b, err := strconv.ParseBool(*success)
		if err != nil {
			return fmt.Errorf("--success %q is invalid; use true or false", *success)
		}
		event["is_success"] = b
	}
	body, _ := json.Marshal(map[string]any{"items": []any{event}})
	resp, err := c.do(http.MethodPost, "/v2/"+c.projectID+"/user-events", nil, body)
	if err != nil {
		return fmt.Errorf("post event: %w", err)
	}
	fmt.Fprintln(c.stdout, strings.TrimSpace(string(resp)))
	return nil
}

// itemIndex finds items[N] in an intake error message.
var itemIndex = regexp.MustCompile(`items\[(\d+)\]`)

// importEvents posts the events of a JSON-lines file in batches of up to
// 1000. Blank lines are skipped. A rejected batch stops the import with
// the file line numbers of the bad events; earlier batches stay stored,
// and a rerun is safe when the events carry event_id.
func (c *client) importEvents(fs *flag.FlagSet, args []string, profilePath *string, getenv func(string) string) error {
	batchSize := fs.Int("batch", 1000, "events per request, 1 to 1000")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return errors.New("give exactly one FILE of JSON lines, or - for standard input")
	}
	if *batchSize < 1 || *batchSize > 1000 {
		return fmt.Errorf("--batch %d is out of range; use 1 to 1000", *batchSize)
	}
	if err := c.resolve(*profilePath, getenv); err != nil {
		return err
	}

	in, size, err := openInput(fs.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(c.stderr),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionSetVisibility(!*quiet && isTerminal(c.stderr)),
		progressbar.OptionClearOnFinish())

	scanner := bufio.NewScanner(io.TeeReader(in, bar))
	scanner.Buffer(make([]byte, 64<<10), 16<<20)
	var batch []json.RawMessage
	var lines []int
	stored, duplicates, lineNo := 0, 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		body, _ := json.Marshal(map[string]any{"items": batch})
		resp, err := c.do(http.MethodPost, "/v2/"+c.projectID+"/user-events", nil, body)
		if err != nil {
			return fmt.Errorf("import stopped at the batch of lines %d to %d: %w", lines[0], lines[len(lines)-1],
				withLineNumbers(err, lines))
		}
		var r struct{ Count, Duplicates int }
		_ = json.Unmarshal(resp, &r)
		stored += r.Count
		duplicates += r.Duplicates
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	for scanner.Scan() {
		lineNo++
		text := strings.TrimSpace(scanner.Text())
		if text == "" {
			continue
		}
		if !json.Valid([]byte(text)) {
			return fmt.Errorf("line %d is not valid JSON; fix it and rerun", lineNo)
		}
		batch = append(batch, json.RawMessage(text))
		lines = append(lines, lineNo)
		if len(batch) == *batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read %s: %w", fs.Arg(0), err)
	}
	if err := flush(); err != nil {
		return err
	}
	_ = bar.Finish()
	fmt.Fprintf(c.stdout, "imported %d events, %d duplicates skipped\n", stored, duplicates)
	return nil
}

// withLineNumbers rewrites items[N] in an error as the file line number.
func withLineNumbers(err error, lines []int) error {
	msg := itemIndex.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, convErr := strconv.Atoi(itemIndex.FindStringSubmatch(m)[1])
		if convErr != nil || n >= len(lines) {
			return m
		}
		return fmt.Sprintf("line %d", lines[n])
	})
	return errors.New(msg)
}

func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// isTerminal reports whether w is a terminal, where a progress bar may
// redraw itself; in a file or a pipe it would leave a line per update.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// printable escapes control and bidirectional-override characters, so a
// stored value cannot move the cursor, recolour or reorder an operator's
// terminal. Other text is returned as it is.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
