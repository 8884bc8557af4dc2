using System.Text;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Reads input lines the way <see cref="TextReader.ReadLine"/> does (LF, CR or CRLF ends a line), but keeps at most
/// <see cref="MaxLineChars"/> characters of any one line: the rest of that line is read and dropped. A file with no
/// line breaks (a gigabyte of one "line") then costs a bounded buffer instead of a string that cannot be allocated.
/// </summary>
/// <remarks>
/// A cut line is still a line: it is far longer than any target the API accepts (8,192 characters) and is no longer
/// valid JSON, so it becomes the same failed record an over-long line always got, with the same resume key each run.
/// A NUL also ends a line (it is kept as the line's last character): text has none, and waiting for the line break
/// of binary input could mean reading forever (<c>/dev/zero</c> has no line break), where the caller's NUL check
/// refuses it at the first read.
/// </remarks>
internal sealed class BoundedLineReader(TextReader reader)
{
    /// <summary>The most characters kept of one line (4 Mi: far above any valid target or plugin parameters line).</summary>
    public const int MaxLineChars = 4 * 1024 * 1024;

    /// <summary>
    /// Why a cut line is refused. The cut line's length is the cap itself, so "is 4194304 characters long" would be
    /// a misleading number: the message names the limit instead.
    /// </summary>
    public static readonly string TooLong =
        $"the line is over {MaxLineChars >> 20} Mi characters long, past the limit of one input line, and was not sent (a target URL has at most 8192 characters)";

    /// <summary>
    /// Why a line with bytes that are not UTF-8 is refused. Input is read as UTF-8 (or what a byte order mark says),
    /// which puts U+FFFD for such bytes, so a Latin-1 'é' would otherwise be sent as part of a URL the user never wrote.
    /// (A file that is mostly not UTF-8 stops the run before anything is sent instead: it is not a list of targets.)
    /// </summary>
    public static readonly string NotUtf8 =
        "the line is not valid UTF-8 (it holds bytes that decode to U+FFFD) and was not sent; save the input as UTF-8";

    private readonly char[] _buffer = new char[16 * 1024];
    private readonly StringBuilder _line = new();
    private int _start;
    private int _end;
    private bool _afterCarriageReturn;
    private bool _inLine;
    private bool _cut;

    /// <summary>Whether the line last returned was longer than <see cref="MaxLineChars"/> and lost its tail.</summary>
    public bool LastLineWasCut { get; private set; }

    /// <summary>Whether <paramref name="line"/> holds U+FFFD, what the decoder puts for bytes that are not UTF-8.</summary>
    public static bool HasUndecodedBytes(string line) => line.Contains('\uFFFD', StringComparison.Ordinal);

    /// <summary>Opens <paramref name="source"/> as UTF-8 text (a byte order mark picks another encoding).</summary>
    public static BoundedLineReader Open(Stream source) =>
        new(new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true));

    /// <summary>The next line without its line break, or null at the end of the input.</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        string? line;
        while (!TryTakeLine(out line))
        {
            // Checked here too: a reader's buffer can keep answering without ever looking at the token (an over-long
            // line from a source that never blocks), and Ctrl-C must stop the read at once.
            cancellationToken.ThrowIfCancellationRequested();
            (_start, _end) = (0, await reader.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false));
            if (_end == 0)
            {
                return TakeLastLine();
            }
        }

        return line;
    }

    /// <summary>The next line without its line break, or null at the end of the input; stops when <paramref name="cancellationToken"/> is canceled.</summary>
    public string? ReadLine(CancellationToken cancellationToken = default)
    {
        string? line;
        while (!TryTakeLine(out line))
        {
            cancellationToken.ThrowIfCancellationRequested();
            (_start, _end) = (0, reader.Read(_buffer));
            if (_end == 0)
            {
                return TakeLastLine();
            }
        }

        return line;
    }

    private bool TryTakeLine(out string? line)
    {
        line = null;
        if (_afterCarriageReturn && _start < _end)
        {
            // CRLF is one line break, even when the LF comes in the next read.
            _afterCarriageReturn = false;
            _start += _buffer[_start] == '\n' ? 1 : 0;
        }

        ReadOnlySpan<char> pending = _buffer.AsSpan(_start, _end - _start);
        if (pending.IsEmpty)
        {
            return false;
        }

        int breakAt = pending.IndexOfAny('\r', '\n', '\0');
        if (breakAt >= 0 && pending[breakAt] == '\0')
        {
            // Kept past the cap too, so the caller sees why the line ended (see the remarks): cut off with the tail of
            // an over-long line, the NUL was missed and the text after it became a target of its own.
            Keep(pending[..breakAt]);
            _line.Append('\0');
            _inLine = true;
            _start += breakAt + 1;
            line = Take();
            return true;
        }

        Keep(breakAt < 0 ? pending : pending[..breakAt]);
        if (breakAt < 0)
        {
            _start = _end;
            return false;
        }

        _afterCarriageReturn = pending[breakAt] == '\r';
        _start += breakAt + 1;
        line = Take();
        return true;
    }

    private void Keep(ReadOnlySpan<char> chars)
    {
        _inLine |= !chars.IsEmpty;
        int room = MaxLineChars - _line.Length;
        _cut |= chars.Length > room;
        _line.Append(chars.Length <= room ? chars : chars[..room]);
    }

    private string? TakeLastLine() => _inLine ? Take() : null;

    private string Take()
    {
        string line = _line.ToString();
        _line.Clear();
        if (_line.Capacity > _buffer.Length * 4)
        {
            // One huge line must not pin its buffer for the rest of the input.
            _line.Capacity = _buffer.Length;
        }

        _inLine = false;
        LastLineWasCut = _cut;
        _cut = false;
        return line;
    }
}
