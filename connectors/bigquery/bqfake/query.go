package bqfake

import (
	"fmt"
	"strings"
	"unicode"
)

// This file holds the lexer and parser of the small GoogleSQL subset the
// fake understands; exec.go runs the parsed statements.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuoted // `backquoted identifier`
	tString
	tNumber
	tParam
	tSym
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the query text
}

// position renders a byte offset as BigQuery's [line:column].
func position(src string, off int) string {
	line, col := 1, 1
	for i, r := range src {
		if i >= off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

func lex(src string) ([]token, *apiError) {
	var toks []token
	i := 0
	errAt := func(off int, format string, args ...any) *apiError {
		return queryErrf("Syntax error: %s at [%s]", fmt.Sprintf(format, args...), position(src, off))
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errAt(i, "Unclosed comment")
			}
			i += end + 4
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(src) && (src[j] == '_' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j], i})
			i = j
		case c == '`':
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return nil, errAt(i, "Unclosed identifier literal")
			}
			toks = append(toks, token{tQuoted, src[i+1 : i+1+end], i})
			i += end + 2
		case c == '\'' || c == '"':
			var sb strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == '\\' && j+1 < len(src) {
					switch src[j+1] {
					case 'n':
						sb.WriteByte('\n')
					case 't':
						sb.WriteByte('\t')
					default:
						sb.WriteByte(src[j+1])
					}
					j += 2
					continue
				}
				if src[j] == c {
					closed = true
					j++
					break
				}
				sb.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, errAt(i, "Unclosed string literal")
			}
			toks = append(toks, token{tString, sb.String(), i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				j++
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case c == '@':
			j := i + 1
			for j < len(src) && (src[j] == '_' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			if j == i+1 {
				return nil, errAt(i, "Illegal input character \"@\"")
			}
			toks = append(toks, token{tParam, src[i+1 : j], i})
			i = j
		default:
			sym := ""
			for _, s := range []string{"<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", ",", ";", "*", ".", "-", "+"} {
				if strings.HasPrefix(src[i:], s) {
					sym = s
					break
				}
			}
			if sym == "" {
				return nil, errAt(i, "Illegal input character %q", string(c))
			}
			toks = append(toks, token{tSym, sym, i})
			i += len(sym)
		}
	}
	return append(toks, token{tEOF, "", len(src)}), nil
}

var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "INSERT": true,
	"INTO": true, "DELETE": true, "DROP": true, "TABLE": true, "BEGIN": true, "COMMIT": true,
	"ROLLBACK": true, "TRANSACTION": true, "BETWEEN": true, "IS": true, "NULL": true, "TRUE": true,
	"FALSE": true, "ORDER": true, "BY": true, "ASC": true, "DESC": true, "LIMIT": true, "IF": true,
	"EXISTS": true, "AS": true, "IN": true, "VALUES": true, "TRUNCATE": true, "UPDATE": true,
	"MERGE": true, "CREATE": true, "ALTER": true, "SET": true, "WITH": true, "GROUP": true, "JOIN": true,
}

// Parsed statements.
type (
	beginStmt    struct{}
	commitStmt   struct{}
	rollbackStmt struct{}
	deleteStmt   struct {
		table tableRef
		where []pred
	}
	insertStmt struct {
		table  tableRef
		cols   []ident // nil: all columns of the table, in order
		sel    *selectStmt
		values [][]valExpr
	}
	selectStmt struct {
		star  bool
		count *ident // SELECT COUNT(*) [AS alias]; alias text may be ""
		items []selItem
		from  tableRef
		where []pred
		order []orderItem
		limit int64 // -1: none
	}
	dropStmt struct {
		table    tableRef
		ifExists bool
	}
	truncateStmt struct{ table tableRef }
)

type ident struct {
	name string
	pos  int
}

type tableRef struct {
	parts []string
	pos   int
}

type selItem struct {
	col   ident
	alias string
}

type orderItem struct {
	col  ident
	desc bool
}

// pred is one conjunct of a WHERE clause: TRUE, FALSE, col BETWEEN a AND b,
// col IS [NOT] NULL, col IN (...), or col <op> value.
type pred struct {
	op   string
	col  ident
	lhs  *valExpr // a value instead of col: a comparison of two values (@a <= @b)
	vals []valExpr
	pos  int
}

// valExpr is a literal or a named query parameter.
type valExpr struct {
	param string // parameter name, or "" for a literal
	v     any
	typ   string // legacy type name of a literal ("" for NULL)
	pos   int
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKw(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

func (p *parser) acceptKw(w string) bool {
	if p.isKw(w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) isSym(s string) bool { t := p.peek(); return t.kind == tSym && t.text == s }

func (p *parser) acceptSym(s string) bool {
	if p.isSym(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tIdent:
		if reserved[strings.ToUpper(t.text)] {
			return "keyword " + strings.ToUpper(t.text)
		}
		return "identifier " + t.text
	case tQuoted:
		return "identifier `" + t.text + "`"
	case tString:
		return "string literal '" + t.text + "'"
	case tNumber:
		return "integer literal \"" + t.text + "\""
	case tParam:
		return "query parameter @" + t.text
	}
	return "\"" + t.text + "\""
}

func (p *parser) unexpected(expected string) *apiError {
	t := p.peek()
	return queryErrf("Syntax error: Expected %s but got %s at [%s]", expected, p.describe(t), position(p.src, t.pos))
}

func (p *parser) expectKw(w string) *apiError {
	if !p.acceptKw(w) {
		return p.unexpected("keyword " + w)
	}
	return nil
}

func (p *parser) expectSym(s string) *apiError {
	if !p.acceptSym(s) {
		return p.unexpected("\"" + s + "\"")
	}
	return nil
}

// parseScript parses a semicolon-separated list of statements.
func parseScript(src string) ([]any, *apiError) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	var out []any
	for {
		for p.acceptSym(";") {
		}
		if p.peek().kind == tEOF {
			break
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		out = append(out, st)
		if p.peek().kind != tEOF && !p.isSym(";") {
			if len(out) == 1 && p.peek().kind == tIdent && reserved[strings.ToUpper(p.peek().text)] {
				return nil, p.unexpected("end of input")
			}
			return nil, p.unexpected("\";\" or end of input")
		}
	}
	if len(out) == 0 {
		return nil, queryErrf("Syntax error: Unexpected end of script at [1:1]")
	}
	return out, nil
}

func (p *parser) statement() (any, *apiError) {
	t := p.peek()
	switch {
	case p.acceptKw("BEGIN"):
		p.acceptKw("TRANSACTION")
		return &beginStmt{}, nil
	case p.acceptKw("COMMIT"):
		p.acceptKw("TRANSACTION")
		return &commitStmt{}, nil
	case p.acceptKw("ROLLBACK"):
		p.acceptKw("TRANSACTION")
		return &rollbackStmt{}, nil
	case p.acceptKw("DELETE"):
		p.acceptKw("FROM")
		tr, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		p.alias()
		if !p.acceptKw("WHERE") {
			return nil, queryErrf("DELETE must have a WHERE clause at [%s]", position(p.src, t.pos))
		}
		w, err := p.cond()
		return &deleteStmt{table: tr, where: w}, err
	case p.acceptKw("INSERT"):
		return p.insert()
	case p.isKw("SELECT"):
		return p.selectStmt()
	case p.acceptKw("DROP"):
		if err := p.expectKw("TABLE"); err != nil {
			return nil, err
		}
		ifExists := false
		if p.acceptKw("IF") {
			if err := p.expectKw("EXISTS"); err != nil {
				return nil, err
			}
			ifExists = true
		}
		tr, err := p.tableRef()
		return &dropStmt{table: tr, ifExists: ifExists}, err
	case p.acceptKw("TRUNCATE"):
		if err := p.expectKw("TABLE"); err != nil {
			return nil, err
		}
		tr, err := p.tableRef()
		return &truncateStmt{table: tr}, err
	}
	return nil, queryErrf("Syntax error: Unexpected %s at [%s] (bqfake supports only BEGIN/COMMIT/ROLLBACK TRANSACTION, DELETE ... WHERE, INSERT ... SELECT, INSERT ... VALUES, SELECT, DROP TABLE and TRUNCATE TABLE)", p.describe(t), position(p.src, t.pos))
}
