using System.Text;
using System.Text.Json;
using CsCheck;
using ScrapeDo.Lean.Cli;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>The CLI's input reader: the lines <see cref="TextReader.ReadLine"/> gives, with any one line's memory bounded.</summary>
public sealed class BoundedLineReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-lines-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Gives_the_lines_ReadLine_gives_for_any_mix_of_line_breaks_and_read_sizes()
    {
        Gen<string> text = Gen.OneOf(Gen.Const("\r"), Gen.Const("\n"), Gen.Const("\r\n"), Gen.Const("a"), Gen.Const("é€"), Gen.String[0, 40]).Array[0, 60]
            .Select(parts => string.Concat(parts));
        await text.SampleAsync(async value =>
        {
            var expected = new List<string>();
            using (var reference = new StringReader(value))
            {
                while (reference.ReadLine() is { } line)
                {
                    expected.Add(line);
                }
            }

            // A reader that returns a few characters a read puts CR and LF of one break in different reads.
            (List<string> syncLines, List<string> asyncLines) = await ReadBothWaysAsync(value);
            Assert.Equal(expected, syncLines);
            Assert.Equal(expected, asyncLines);
        }, iter: 2000);
    }

    [Fact]
    public void A_line_longer_than_the_bound_is_cut_and_the_lines_after_it_are_read_whole()
    {
        string huge = new('x', BoundedLineReader.MaxLineChars + 123_457);
        var reader = new BoundedLineReader(new StringReader($"first\r\n{huge}\r\nnext\n"));
        Assert.Equal("first", reader.ReadLine());
        string cut = reader.ReadLine()!;
        Assert.Equal(BoundedLineReader.MaxLineChars, cut.Length);
        Assert.Equal("next", reader.ReadLine());
        Assert.Null(reader.ReadLine());
    }

    [Fact]
    public async Task A_run_over_input_with_a_line_past_the_bound_fails_that_line_alone()
    {
        string input = Path.Combine(_dir, "urls.txt");
        await File.WriteAllTextAsync(input, "https://a.example/ok\nhttps://a.example/" + new string('x', BoundedLineReader.MaxLineChars + 10) + "\nhttps://a.example/after\n");
        string output = Path.Combine(_dir, "out.jsonl");

        CliResult result = await CliHarness.RunAsync("run", input, "--emulate", "-o", output, "-q");

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        JsonElement[] records = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        Assert.Equal(3, records.Length);
        Assert.Equal(2, records.Count(r => r.GetProperty("status").GetString() == "success"));
        Assert.Contains(records, r => r.GetProperty("target").GetString() == "https://a.example/after");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_line_past_the_bound_is_reported_as_over_the_limit_not_as_the_cap_in_characters(bool plugin)
    {
        string input = Path.Combine(_dir, "in.txt");
        string ok = plugin ? "{\"q\":\"ok\"}" : "https://a.example/ok";
        string huge = plugin ? "{\"q\":\"" + new string('x', BoundedLineReader.MaxLineChars) + "\"}" : "https://a.example/" + new string('x', BoundedLineReader.MaxLineChars);
        await File.WriteAllTextAsync(input, $"{ok}\n{huge}\n");
        string output = Path.Combine(_dir, "out.jsonl");

        CliResult result = await CliHarness.RunAsync(["run", input, "--emulate", "-o", output, "-q", .. (plugin ? new[] { "--plugin", "google/search" } : [])]);

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        string error = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Single(r => r.GetProperty("status").GetString() == "failed").GetProperty("error").GetString()!;
        Assert.StartsWith("line 2: the line is over 4 Mi characters long", error);
        Assert.DoesNotContain(BoundedLineReader.MaxLineChars.ToString(System.Globalization.CultureInfo.InvariantCulture), error);
    }

    [Fact]
    public void The_reader_says_which_line_it_cut()
    {
        var reader = new BoundedLineReader(new StringReader($"a\n{new string('x', BoundedLineReader.MaxLineChars + 1)}\n{new string('y', BoundedLineReader.MaxLineChars)}\n"));
        Assert.Equal("a", reader.ReadLine());
        Assert.False(reader.LastLineWasCut);
        reader.ReadLine();
        Assert.True(reader.LastLineWasCut);
        reader.ReadLine();
        Assert.False(reader.LastLineWasCut, "a line of exactly the bound is whole");
    }

    [Fact]
    public async Task A_NUL_ends_its_line_and_stays_in_it_so_binary_input_is_seen_at_the_first_read()
    {
        // Line breaks only after the NUL: binary input without any (/dev/zero) must not be read to its end first.
        (List<string> syncLines, List<string> asyncLines) = await ReadBothWaysAsync("ab\0cd\r\n\0\nlast");
        string[] expected = ["ab\0", "cd", "\0", string.Empty, "last"];
        Assert.Equal(expected, syncLines);
        Assert.Equal(expected, asyncLines);
    }

    [Fact]
    public async Task A_NUL_past_the_line_cap_still_ends_the_line_and_is_kept()
    {
        // Cut off with the tail, the NUL went unseen and the text after it read as a line (a target) of its own.
        string overLong = new('a', BoundedLineReader.MaxLineChars + 10);
        (List<string> syncLines, List<string> asyncLines) = await ReadBothWaysAsync(overLong + "\0https://example.org\nhttps://example.com\n");
        foreach (List<string> lines in new[] { syncLines, asyncLines })
        {
            Assert.Equal(3, lines.Count);
            Assert.Equal(BoundedLineReader.MaxLineChars + 1, lines[0].Length);
            Assert.EndsWith("a\0", lines[0], StringComparison.Ordinal);
            Assert.Equal(["https://example.org", "https://example.com"], lines[1..]);
        }
    }

    [Fact]
    public async Task An_endless_line_stops_at_cancellation_even_from_a_reader_that_ignores_the_token()
    {
        // Like a StreamReader over a source that never blocks: every read answers at once without looking at the token.
        using var canceled = new CancellationTokenSource();
        var endless = new EndlessReader(afterReads: 5, canceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await new BoundedLineReader(endless).ReadLineAsync(canceled.Token));
        Assert.InRange(endless.Reads, 5, 6);

        using var canceledSync = new CancellationTokenSource();
        var endlessSync = new EndlessReader(afterReads: 5, canceledSync);
        Assert.ThrowsAny<OperationCanceledException>(() => new BoundedLineReader(endlessSync).ReadLine(canceledSync.Token));
        Assert.InRange(endlessSync.Reads, 5, 6);
    }

    /// <summary>An endless line of 'a' that cancels <paramref name="source"/> after <paramref name="afterReads"/> reads (and fails 100 reads later).</summary>
    private sealed class EndlessReader(int afterReads, CancellationTokenSource source) : TextReader
    {
        public int Reads { get; private set; }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            if (++Reads == afterReads)
            {
                source.Cancel();
            }
            else if (Reads > afterReads + 100)
            {
                // Bounds the test if cancellation is ever ignored again: a failure, not a hang.
                throw new InvalidOperationException("The line reader kept reading after its token was canceled.");
            }

            buffer.Fill('a');
            return buffer.Length;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
    }

    /// <summary>Every line of <paramref name="text"/>, read through <see cref="TrickleReader"/> by the synchronous and the asynchronous method.</summary>
    private static async Task<(List<string> Sync, List<string> Async)> ReadBothWaysAsync(string text)
    {
        var sync = new BoundedLineReader(new TrickleReader(text));
        var asyncReader = new BoundedLineReader(new TrickleReader(text));
        var syncLines = new List<string>();
        var asyncLines = new List<string>();
        while (sync.ReadLine() is { } line)
        {
            syncLines.Add(line);
        }

        while (await asyncReader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            asyncLines.Add(line);
        }

        return (syncLines, asyncLines);
    }

    /// <summary>Hands out at most three characters a read.</summary>
    private sealed class TrickleReader(string text) : TextReader
    {
        private int _at;

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            int n = Math.Min(Math.Min(3, buffer.Length), text.Length - _at);
            text.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
    }
}
