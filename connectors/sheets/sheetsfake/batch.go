package sheetsfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"

	sheets "google.golang.org/api/sheets/v4"
)

const (
	defaultRows = 1000
	defaultCols = 26
	maxColumns  = 18278 // column ZZZ
)

type batchRequest struct {
	Requests                     []map[string]json.RawMessage `json:"requests"`
	IncludeSpreadsheetInResponse bool                         `json:"includeSpreadsheetInResponse"`
	ResponseRanges               []string                     `json:"responseRanges"`
	ResponseIncludeGridData      bool                         `json:"responseIncludeGridData"`
}

type gridPropsIn struct {
	RowCount          *int64 `json:"rowCount"`
	ColumnCount       *int64 `json:"columnCount"`
	FrozenRowCount    *int64 `json:"frozenRowCount"`
	FrozenColumnCount *int64 `json:"frozenColumnCount"`
}

type sheetPropsIn struct {
	SheetID        *int64       `json:"sheetId"`
	Title          *string      `json:"title"`
	Index          *int64       `json:"index"`
	Hidden         *bool        `json:"hidden"`
	SheetType      *string      `json:"sheetType"`
	GridProperties *gridPropsIn `json:"gridProperties"`
}

type addSheetIn struct {
	Properties *sheetPropsIn `json:"properties"`
}

type deleteSheetIn struct {
	SheetID int64 `json:"sheetId"`
}

type updateSheetPropsIn struct {
	Properties *sheetPropsIn `json:"properties"`
	Fields     string        `json:"fields"`
}

type appendDimensionIn struct {
	SheetID   int64  `json:"sheetId"`
	Dimension string `json:"dimension"`
	Length    int64  `json:"length"`
}

type dimensionRangeIn struct {
	SheetID    int64  `json:"sheetId"`
	Dimension  string `json:"dimension"`
	StartIndex *int64 `json:"startIndex"`
	EndIndex   *int64 `json:"endIndex"`
}

type deleteDimensionIn struct {
	Range *dimensionRangeIn `json:"range"`
}

// decodeStrict decodes JSON, rejecting names the fake does not know (Sheets
// rejects names it does not know; the fake also rejects fields it does not
// model, so that they are not silently dropped).
func decodeStrict(data []byte, v any, where string) *apiError {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("Invalid JSON payload received at '%s' (names unknown to Sheets or not modelled by sheetsfake are rejected): %v", where, err)
	}
	return nil
}

// batchUpdate applies the requests of a spreadsheets.batchUpdate to a copy
// of ss and commits the copy only if all of them succeed.
func (s *Server) batchUpdate(ss *spreadsheet, body []byte) (any, *apiError) {
	var in batchRequest
	if aerr := decodeStrict(body, &in, "batchUpdate"); aerr != nil {
		return nil, aerr
	}
	if len(in.Requests) == 0 {
		return nil, invalidf("Must specify at least one request.")
	}
	work := ss.clone()
	replies := make([]*sheets.Response, 0, len(in.Requests))
	for i, r := range in.Requests {
		if len(r) != 1 {
			return nil, invalidf("Invalid requests[%d]: a request must set exactly one kind, got %d", i, len(r))
		}
		var kind string
		var raw json.RawMessage
		for k, v := range r {
			kind, raw = k, v
		}
		before := work.totalCells()
		reply, err := work.apply(kind, raw, i)
		if err == nil && work.totalCells() > MaxCells && work.totalCells() > before {
			err = bad("This action would increase the number of cells in the workbook above the limit of %d cells.", MaxCells)
		}
		if err != nil {
			var re *reqError
			if errors.As(err, &re) {
				return nil, invalidf("Invalid requests[%d].%s: %s", i, kind, re.message)
			}
			var ae *apiError
			if errors.As(err, &ae) {
				return nil, ae
			}
			return nil, errorf(http.StatusInternalServerError, "sheetsfake: %v", err)
		}
		if reply == nil {
			reply = &sheets.Response{}
		}
		replies = append(replies, reply)
	}
	*ss = *work
	out := &sheets.BatchUpdateSpreadsheetResponse{SpreadsheetId: ss.id, Replies: replies}
	if in.IncludeSpreadsheetInResponse {
		out.UpdatedSpreadsheet = ss.resource(s.URL(), in.ResponseIncludeGridData, rangeTitles(in.ResponseRanges))
	}
	return out, nil
}

// apply runs one sub-request on ss. Errors are *reqError (prefixed by the
// caller with the request index and kind) or *apiError (answered as is).
func (ss *spreadsheet) apply(kind string, raw json.RawMessage, i int) (*sheets.Response, error) {
	where := "requests[" + itoa(i) + "]." + kind
	switch kind {
	case "addSheet":
		var in addSheetIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return ss.addSheet(in)
	case "deleteSheet":
		var in deleteSheetIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.deleteSheet(in.SheetID)
	case "updateSheetProperties":
		var in updateSheetPropsIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.updateSheetProperties(in)
	case "appendDimension":
		var in appendDimensionIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.appendDimension(in)
	case "deleteDimension":
		var in deleteDimensionIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.deleteDimension(in)
	case "updateCells":
		var in updateCellsIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.updateCells(in, where)
	case "repeatCell":
		var in repeatCellIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.repeatCell(in, where)
	case "copyPaste":
		var in copyPasteIn
		if aerr := decodeStrict(raw, &in, where); aerr != nil {
			return nil, aerr
		}
		return nil, ss.copyPaste(in)
	}
	return nil, invalidf("Invalid requests[%d]: unknown or unsupported request kind for this fake: %s", i, kind)
}

func (ss *spreadsheet) newSheetID() int64 {
	for {
		id := int64(rand.Int32N(1<<31-1)) + 1
		if ss.byID(id) == nil {
			return id
		}
	}
}

func (ss *spreadsheet) addSheet(in addSheetIn) (*sheets.Response, error) {
	p := in.Properties
	if p == nil {
		p = &sheetPropsIn{}
	}
	sh := &sheet{props: Sheet{RowCount: defaultRows, ColumnCount: defaultCols}, cells: map[coord]Cell{}}
	if p.SheetType != nil && *p.SheetType != "GRID" {
		return nil, bad("sheetsfake: sheetType %q is not supported (only GRID)", *p.SheetType)
	}
	if p.SheetID != nil {
		if *p.SheetID < 0 {
			return nil, bad("Invalid sheetId: %d, the ID must be non-negative.", *p.SheetID)
		}
		if ss.byID(*p.SheetID) != nil {
			return nil, bad("Sheet with id %d already exists.", *p.SheetID)
		}
		sh.props.ID = *p.SheetID
	} else {
		sh.props.ID = ss.newSheetID()
	}
	if p.Title != nil && *p.Title != "" {
		sh.props.Title = *p.Title
	} else {
		for n := len(ss.sheets) + 1; ; n++ {
			if t := "Sheet" + itoa(n); ss.byTitle(t) == nil {
				sh.props.Title = t
				break
			}
		}
	}
	if ss.byTitle(sh.props.Title) != nil {
		return nil, bad("A sheet with the name \"%s\" already exists. Please enter another name.", sh.props.Title)
	}
	if p.Hidden != nil {
		sh.props.Hidden = *p.Hidden
	}
	if g := p.GridProperties; g != nil {
		if g.RowCount != nil {
			sh.props.RowCount = int(*g.RowCount)
		}
		if g.ColumnCount != nil {
			sh.props.ColumnCount = int(*g.ColumnCount)
		}
		if g.FrozenRowCount != nil {
			sh.props.FrozenRowCount = int(*g.FrozenRowCount)
		}
		if g.FrozenColumnCount != nil {
			sh.props.FrozenColumnCount = int(*g.FrozenColumnCount)
		}
	}
	if err := checkGrid(&sh.props); err != nil {
		return nil, err
	}
	idx := len(ss.sheets)
	if p.Index != nil {
		if *p.Index < 0 {
			return nil, bad("index must be non-negative, got %d", *p.Index)
		}
		idx = min(idx, int(*p.Index))
	}
	ss.sheets = append(ss.sheets, nil)
	copy(ss.sheets[idx+1:], ss.sheets[idx:])
	ss.sheets[idx] = sh
	ss.reindex()
	if err := ss.checkVisible(); err != nil {
		return nil, err
	}
	return &sheets.Response{AddSheet: &sheets.AddSheetResponse{Properties: sh.properties()}}, nil
}

// checkGrid validates grid properties after a change.
func checkGrid(p *Sheet) error {
	switch {
	case p.RowCount < 1:
		return bad("You can't delete all the rows on the sheet.")
	case p.ColumnCount < 1:
		return bad("You can't delete all the columns on the sheet.")
	case p.ColumnCount > maxColumns:
		return bad("This action would increase the number of columns in the workbook above the limit of %d.", maxColumns)
	case p.FrozenRowCount < 0:
		return bad("frozenRowCount must be non-negative, got %d", p.FrozenRowCount)
	case p.FrozenRowCount >= p.RowCount:
		return bad("You can't freeze all visible rows on the sheet.")
	case p.FrozenColumnCount < 0:
		return bad("frozenColumnCount must be non-negative, got %d", p.FrozenColumnCount)
	case p.FrozenColumnCount >= p.ColumnCount:
		return bad("You can't freeze all visible columns on the sheet.")
	}
	return nil
}

func (ss *spreadsheet) checkVisible() error {
	for _, sh := range ss.sheets {
		if !sh.props.Hidden {
			return nil
		}
	}
	return bad("You can't hide all the sheets in a document.")
}

func (ss *spreadsheet) deleteSheet(id int64) error {
	for i, sh := range ss.sheets {
		if sh.props.ID != id {
			continue
		}
		if len(ss.sheets) == 1 {
			return bad("You can't remove all the sheets in a document.")
		}
		ss.sheets = append(ss.sheets[:i], ss.sheets[i+1:]...)
		ss.reindex()
		return ss.checkVisible()
	}
	return bad("No sheet with id: %d", id)
}

var sheetPropPaths = map[string][]string{
	"*":                                {"title", "hidden", "index", "gridProperties.rowCount", "gridProperties.columnCount", "gridProperties.frozenRowCount", "gridProperties.frozenColumnCount"},
	"title":                            {"title"},
	"hidden":                           {"hidden"},
	"index":                            {"index"},
	"gridProperties":                   {"gridProperties.rowCount", "gridProperties.columnCount", "gridProperties.frozenRowCount", "gridProperties.frozenColumnCount"},
	"gridProperties.rowCount":          {"gridProperties.rowCount"},
	"gridProperties.columnCount":       {"gridProperties.columnCount"},
	"gridProperties.frozenRowCount":    {"gridProperties.frozenRowCount"},
	"gridProperties.frozenColumnCount": {"gridProperties.frozenColumnCount"},
}

// parseMask splits a field mask ("a,b.c") and expands it with known paths.
func parseMask(fields string, known map[string][]string) (map[string]bool, error) {
	if strings.TrimSpace(fields) == "" {
		return nil, bad("At least one field must be specified in 'fields'.")
	}
	out := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		paths, ok := known[f]
		if !ok {
			return nil, bad("sheetsfake: field mask path %q is not supported by the fake", f)
		}
		for _, p := range paths {
			out[p] = true
		}
	}
	return out, nil
}

func (ss *spreadsheet) updateSheetProperties(in updateSheetPropsIn) error {
	mask, err := parseMask(in.Fields, sheetPropPaths)
	if err != nil {
		return err
	}
	p := in.Properties
	if p == nil {
		p = &sheetPropsIn{}
	}
	var id int64
	if p.SheetID != nil {
		id = *p.SheetID
	}
	sh := ss.byID(id)
	if sh == nil {
		return bad("No grid with id: %d", id)
	}
	g := p.GridProperties
	if g == nil {
		g = &gridPropsIn{}
	}
	get := func(v *int64) int {
		if v == nil {
			return 0
		}
		return int(*v)
	}
	np := sh.props
	if mask["title"] {
		if p.Title == nil || *p.Title == "" {
			return bad("The sheet name cannot be empty.")
		}
		if other := ss.byTitle(*p.Title); other != nil && other != sh {
			return bad("A sheet with the name \"%s\" already exists. Please enter another name.", *p.Title)
		}
		np.Title = *p.Title
	}
	if mask["hidden"] {
		np.Hidden = p.Hidden != nil && *p.Hidden
	}
	if mask["gridProperties.rowCount"] {
		np.RowCount = get(g.RowCount)
	}
	if mask["gridProperties.columnCount"] {
		np.ColumnCount = get(g.ColumnCount)
	}
	if mask["gridProperties.frozenRowCount"] {
		np.FrozenRowCount = get(g.FrozenRowCount)
	}
	if mask["gridProperties.frozenColumnCount"] {
		np.FrozenColumnCount = get(g.FrozenColumnCount)
	}
	if err := checkGrid(&np); err != nil {
		return err
	}
	sh.props = np
	sh.crop()
	if mask["index"] {
		idx := min(max(get(p.Index), 0), len(ss.sheets)-1)
		rest := make([]*sheet, 0, len(ss.sheets))
		for _, o := range ss.sheets {
			if o != sh {
				rest = append(rest, o)
			}
		}
		ss.sheets = append(rest[:idx], append([]*sheet{sh}, rest[idx:]...)...)
		ss.reindex()
	}
	return ss.checkVisible()
}

func itoa(n int) string { return strconv.Itoa(n) }

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "sheetsfake: encoding response: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}
