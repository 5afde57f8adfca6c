package sample

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Headers of the exports (a contract with the parsers).
var (
	establishmentsHeader = []string{"reference", "name", "archived", "has_portal_access", "portal views", "downloads", "shares", "salesperson", "seats"}
	usersHeader          = []string{"user_id", "customer_reference", "email", "created", "first_login", "deactivated", "archived"}
	activityHeader       = []string{"date", "user_id", "customer_reference", "event", "count"}
)

// outFile is a buffered output file.
type outFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func createFile(path string) (*outFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	return &outFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// close flushes and closes the file, returning the first error.
func (o *outFile) close(err error) error {
	if err == nil {
		err = o.w.Flush()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sample: writing %s: %w", o.path, err)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeEstablishments writes the establishment export of month m.
func (g *generator) writeEstablishments(path string, m int) (FileSummary, error) {
	o, err := createFile(path)
	if err != nil {
		return FileSummary{}, err
	}
	cw := csv.NewWriter(o.w)
	err = cw.Write(establishmentsHeader)
	rows := 0
	rec := make([]string, len(establishmentsHeader))
	for i := range g.cust {
		c := &g.cust[i]
		if int(c.created) > m || err != nil {
			continue
		}
		archived := m >= int(c.archived)
		sales := c.sales
		if m >= int(c.reassign) {
			sales = c.sales2
		}
		rec[0], rec[1] = c.ref, c.name
		rec[2] = yesNo(archived)
		rec[3] = yesNo(m >= int(c.access) && !(archived && c.dropAccess))
		rec[4] = strconv.FormatInt(g.views[i], 10)
		rec[5] = strconv.FormatInt(g.downloads[i], 10)
		rec[6] = strconv.FormatInt(g.shares[i], 10)
		rec[7], rec[8] = "", ""
		if sales >= 0 {
			rec[7] = g.sales[sales]
		}
		if c.seats >= 0 {
			rec[8] = strconv.Itoa(int(c.seats))
		}
		err = cw.Write(rec)
		rows++
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	return FileSummary{Path: path, Rows: rows}, o.close(err)
}

// writeActivity writes the rows drawn by the last generateMonth. Fields never
// need quoting, so rows are formatted directly (same bytes as encoding/csv).
func (g *generator) writeActivity(path string) (FileSummary, error) {
	o, err := createFile(path)
	if err != nil {
		return FileSummary{}, err
	}
	_, err = o.w.WriteString(strings.Join(activityHeader, ",") + "\n")
	rows, ms := g.sorted, g.curMonthStart
	for i := 0; i < len(rows) && err == nil; i++ {
		a := &rows[i]
		u := &g.users[a.user]
		b := o.w.AvailableBuffer()
		b = append(b, g.cal.date(ms+int(a.day))...)
		b = append(b, ",U-"...)
		b = appendPadded(b, int(u.id), 7)
		b = append(b, ',')
		b = append(b, g.cust[u.cust].ref...)
		b = append(b, ',')
		b = append(b, eventNames[a.event]...)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(a.count), 10)
		b = append(b, '\n')
		_, err = o.w.Write(b)
	}
	return FileSummary{Path: path, Rows: len(rows)}, o.close(err)
}

// writeUsers writes the users snapshot, ordered by user_id.
func (g *generator) writeUsers(path string) (FileSummary, error) {
	o, err := createFile(path)
	if err != nil {
		return FileSummary{}, err
	}
	order := make([]int32, len(g.users))
	for i := range g.users {
		order[g.users[i].id-1] = int32(i)
	}
	cw := csv.NewWriter(o.w)
	err = cw.Write(usersHeader)
	rec := make([]string, len(usersHeader))
	var email []byte
	day := func(d int16) string {
		if d < 0 || d == noDay {
			return ""
		}
		return string(g.cal.date(int(d)))
	}
	for _, ui := range order {
		if err != nil {
			break
		}
		u := &g.users[ui]
		c := &g.cust[u.cust]
		email = append(email[:0], g.people.firstMail[u.fn]...)
		email = append(email, '.')
		email = append(email, g.people.lastMail[u.ln]...)
		if u.dup > 0 {
			email = strconv.AppendUint(email, uint64(u.dup)+1, 10)
		}
		if u.internal {
			email = append(email, '+')
			email = append(email, strings.ToLower(c.ref)...)
			email = append(email, '@')
			email = append(email, internalDomain...)
		} else {
			email = append(email, '@')
			email = append(email, c.domain...)
		}
		rec[0] = "U-" + pad(int(u.id), 7)
		rec[1] = c.ref
		rec[2] = string(email)
		rec[3] = day(u.created)
		rec[4] = day(u.first)
		rec[5] = day(u.deact)
		rec[6] = yesNo(u.archived)
		err = cw.Write(rec)
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	return FileSummary{Path: path, Rows: len(order)}, o.close(err)
}
