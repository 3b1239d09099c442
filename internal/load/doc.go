// Package load drives a gotree (or oTree) server the way participants'
// browsers do, many at once, and reports how fast the server answered.
//
// Start with [Run]: it creates sessions through the REST API, plays every
// participant of them concurrently over plain HTTP and WebSockets, and
// returns a [Report]:
//
//	rep, err := load.Run(ctx, load.Options{
//		BaseURL:       "http://127.0.0.1:8000",
//		SessionConfig: "public_goods",
//		Participants:  300,
//	})
//	if err != nil {
//		return err
//	}
//	rep.Print(os.Stdout)
//
// # What a participant does
//
// Each participant starts at /InitializeParticipant/<code> and follows
// redirects. On a page with a submit button it fills the form with valid
// values and posts it: numbers drawn from the input's [min, max] on its
// step, the first option of a radio group or select, the first named
// button's value for buttons that set a field, "x" for free text. A
// rejected form (the page shown again with errors) is an error, since a
// valid form must move the participant on. On a wait page it opens the
// page's wait socket, as the page script does, waits for
// {"status": "ready"} and requests the page again. It stops on a page
// without a submit button (the last page) or on /OutOfRangeNotification.
//
// # What is measured
//
// Every HTTP request a participant makes, redirects included, is timed from
// sending it to reading the whole body. Time spent on a wait page is not a
// request's latency: it is reported apart, as the wait. Creating the
// sessions is timed apart too, and its requests are not counted.
//
// # What it does not do
//
// It runs no JavaScript and so opens no auto-advance sockets, only wait
// sockets. It submits timed pages at once instead of letting them time out,
// and it ignores a base URL's path: pages live at the server's root.
package load
