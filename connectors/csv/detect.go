package csv

// delimiters are the candidates of detection, in order of preference when
// the sample cannot tell them apart: ";" first, as French files use it
// precisely because "," is their decimal separator.
var delimiters = [...]byte{';', ',', '\t', '|'}

// maxDetectLines bounds the lines read to detect the delimiter.
const maxDetectLines = 1000

// detectDelimiter picks the delimiter of a sample of text: the candidate
// found the same non-zero number of times on the most lines (quotes
// respected), the first in the order of delimiters on a tie. eof says
// whether the sample is the whole text (else its last line may be cut).
// A text where no candidate occurs is one column: ',' is returned.
func detectDelimiter(sample []byte, eof bool) byte {
	var counts [len(delimiters)][]int
	var cur [len(delimiters)]int
	inQuotes := false
	lineLen := 0
	lines := 0
	flush := func() {
		if lineLen > 0 {
			for k := range delimiters {
				counts[k] = append(counts[k], cur[k])
			}
			lines++
		}
		cur = [len(delimiters)]int{}
		lineLen = 0
	}
	for _, c := range sample {
		if lines >= maxDetectLines {
			break
		}
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case c == '\n':
			flush()
			continue
		case c == '\r':
			continue
		default:
			for k, d := range delimiters {
				if c == d {
					cur[k]++
				}
			}
		}
		lineLen++
	}
	if eof && lines < maxDetectLines {
		flush()
	}
	best, bestScore := byte(','), 0.0
	for k, d := range delimiters {
		mode, freq := modeOf(counts[k])
		if mode == 0 || lines == 0 {
			continue
		}
		score := float64(freq) / float64(lines)
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// modeOf returns the most frequent non-zero value of xs (the largest on a
// tie) and how often it occurs; 0, 0 when all are zero.
func modeOf(xs []int) (mode, freq int) {
	seen := make(map[int]int, 8)
	for _, x := range xs {
		if x != 0 {
			seen[x]++
		}
	}
	for v, n := range seen {
		if n > freq || (n == freq && v > mode) {
			mode, freq = v, n
		}
	}
	return mode, freq
}
