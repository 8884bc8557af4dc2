using System.Text;
using ScrapeDo.Lean.Cli;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Pins the JSONL records byte for byte (design.md: scripts depend on them). <c>Fixtures/records-golden.jsonl</c> was
/// produced by the record writer before issue 14 target 7 reworked it (pooled buffer, group commit, content written
/// without a second escaping pass), from the outcomes below: HTML with quotes, &lt;, &amp;, backslashes, non-ASCII,
/// an astral character, U+2028, control characters, base64 content, plugin targets, failed records, and contents
/// large enough to cross the writer's buffer sizes (lines over 4 KiB are pinned by SHA-256 and length). Regenerate only for a deliberate contract change:
/// <c>SCRAPEDO_REGENERATE_GOLDEN=/path/to/records-golden.jsonl dotnet test --filter RecordWriterGoldenTests</c>.
/// </summary>
public sealed class RecordWriterGoldenTests : IDisposable
{
    private const string ContentDirToken = "{CONTENT_DIR}";
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-golden-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(null, ".bin")]
    [InlineData("", ".bin")]
    [InlineData("application/octet-stream", ".bin")]
    [InlineData("image/png", ".png")]
    [InlineData("IMAGE/JPEG; charset=binary", ".jpg")]
    [InlineData("  application/pdf ", ".pdf")]
    [InlineData("image/svg+xml", ".svg")]
    [InlineData("text/html; charset=utf-8", ".bin")]
    [InlineData("image/png-but-not", ".bin")]
    public void A_binary_contents_file_takes_the_extension_of_its_content_type(string? contentType, string extension)
    {
        Dictionary<string, string>? headers = contentType is null ? null : new() { ["content-type"] = contentType, ["X-Other"] = "image/gif" };
        Assert.Equal(extension, RecordWriter.BinaryExtension(headers));
    }

    [Fact]
    public async Task Records_are_byte_identical_to_the_pinned_ones()
    {
        byte[] actual = await WriteAllAsync(Path.Combine(_dir, "out.jsonl"), contentDir: null);
        byte[] actualWithDir = await WriteAllAsync(Path.Combine(_dir, "out-dir.jsonl"), contentDir: Path.Combine(_dir, "pages"));
        string dirJson = Path.Combine(_dir, "pages").Replace("\\", "\\\\", StringComparison.Ordinal);
        byte[] all = Pinned([.. actual, .. Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(actualWithDir).Replace(dirJson, ContentDirToken, StringComparison.Ordinal))]);

        if (Environment.GetEnvironmentVariable("SCRAPEDO_REGENERATE_GOLDEN") is { Length: > 0 } regenerate)
        {
            await File.WriteAllBytesAsync(regenerate, all);
            return;
        }

        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "records-golden.jsonl"));
        Assert.Equal(expected.Length, all.Length);
        int first = expected.AsSpan().CommonPrefixLength(all);
        Assert.True(first == expected.Length, $"records differ at byte {first}: expected …{Excerpt(expected, first)}…, got …{Excerpt(all, first)}…");
    }

    [Fact]
    public async Task Content_files_hold_the_decoded_content()
    {
        string pages = Path.Combine(_dir, "pages");
        await WriteAllAsync(Path.Combine(_dir, "out.jsonl"), pages);
        var expected = Outcomes().Select(o => o.Outcome.Details).OfType<TaskDetails>().Where(d => !d.Content.IsEmpty).ToList();
        Assert.Equal(expected.Count, Directory.GetFiles(pages).Length);
        foreach (TaskDetails details in expected)
        {
            string file = Directory.GetFiles(pages, details.TaskId + ".*").Single();
            Assert.Equal(details.GetContentBytes(), await File.ReadAllBytesAsync(file));
        }

        Assert.Equal(Enumerable.Range(0, 3000).Select(b => (byte)(b * 7)).ToArray(), await File.ReadAllBytesAsync(Path.Combine(pages, "11111111-1111-1111-1111-000000000006.bin")));
    }

    [Fact]
    public async Task Leased_contents_give_the_same_records_and_files_as_contents_in_the_details()
    {
        // The CLI's runs lease their contents (RunOptions.LeaseContent): the writer then reads the lease, not Details.
        byte[] records = await WriteAllAsync(Path.Combine(_dir, "out.jsonl"), contentDir: null);
        byte[] leased = await WriteAllAsync(Path.Combine(_dir, "leased.jsonl"), contentDir: null, lease: true);
        Assert.Equal(records, leased);

        string pages = Path.Combine(_dir, "pages"), leasedPages = Path.Combine(_dir, "leased-pages");
        byte[] withDir = await WriteAllAsync(Path.Combine(_dir, "out-dir.jsonl"), pages);
        byte[] leasedWithDir = await WriteAllAsync(Path.Combine(_dir, "leased-dir.jsonl"), leasedPages, lease: true);
        Assert.Equal(Encoding.UTF8.GetString(withDir), Encoding.UTF8.GetString(leasedWithDir).Replace(leasedPages, pages, StringComparison.Ordinal));
        string[] files = Directory.GetFiles(pages).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(files, Directory.GetFiles(leasedPages).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        foreach (string file in files)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pages, file)), await File.ReadAllBytesAsync(Path.Combine(leasedPages, file)));
        }
    }

    [Fact]
    public async Task A_content_file_that_cannot_be_written_fails_the_writer_and_names_the_content_dir()
    {
        string pages = Path.Combine(_dir, "pages");
        // A folder where the first content file goes: opening it for writing fails, as in a folder that takes no files.
        Directory.CreateDirectory(Path.Combine(pages, "11111111-1111-1111-1111-000000000001.html"));
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: false);
        await using RecordWriter writer = await RecordWriter.OpenAsync(Path.Combine(_dir, "out.jsonl"), resume: false, pages, ".html", console, CancellationToken.None);
        (TaskOutcome first, string? raw, string? error) = Outcomes().First();

        await Assert.ThrowsAnyAsync<UnauthorizedAccessException>(() => writer.WriteAsync(first, raw, error, CancellationToken.None).AsTask());

        Assert.True(writer.HasFailed);
        Assert.True(writer.FailedInContentDir);
        await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Stdout_gets_the_same_bytes_as_a_file()
    {
        byte[] file = await WriteAllAsync(Path.Combine(_dir, "out.jsonl"), contentDir: null);
        byte[] stdout = await WriteAllAsync(path: null, contentDir: null);
        Assert.Equal(file, stdout);
    }

    /// <summary>The output as pinned: lines over 4 KiB as their SHA-256 and length (keeps the fixture small).</summary>
    private static byte[] Pinned(byte[] output)
    {
        var pinned = new MemoryStream();
        int start = 0;
        while (start < output.Length)
        {
            int end = Array.IndexOf(output, (byte)'\n', start) is int nl and >= 0 ? nl + 1 : output.Length;
            ReadOnlySpan<byte> line = output.AsSpan(start, end - start);
            if (line.Length > 4096)
            {
                pinned.Write(Encoding.ASCII.GetBytes($"#sha256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(line))} {line.Length}\n"));
            }
            else
            {
                pinned.Write(line);
            }

            start = end;
        }

        return pinned.ToArray();
    }

    private static string Excerpt(byte[] bytes, int at) => Encoding.UTF8.GetString(bytes.AsSpan(Math.Max(0, at - 40), Math.Min(80, bytes.Length - Math.Max(0, at - 40))));

    private static async Task<byte[]> WriteAllAsync(string? path, string? contentDir, bool lease = false)
    {
        var stdout = new MemoryStream();
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, () => new MemoryStream(), () => stdout, ErrorIsTerminal: false);
        await using (RecordWriter writer = await RecordWriter.OpenAsync(path, resume: false, contentDir, ".html", console, CancellationToken.None))
        {
            int n = 0;
            foreach ((TaskOutcome given, string? rawPluginTarget, string? error) in Outcomes())
            {
                // As the runner hands a leased content out: in a rented buffer, with the details' content empty.
                using TaskContentLease? leased = lease && given.Details is { Content.IsEmpty: false } details ? Rented(details.Content) : null;
                TaskOutcome outcome = leased is null ? given : new TaskOutcome
                {
                    InputIndex = given.InputIndex, Target = given.Target, Status = given.Status, JobId = given.JobId, TaskId = given.TaskId,
                    StatusCode = given.StatusCode, Reason = given.Reason, Details = given.Details!.WithoutContent(), ContentLease = leased,
                };
                Assert.True(await writer.WriteAsync(outcome, rawPluginTarget, error, CancellationToken.None));
                if (++n % 7 == 0)
                {
                    await writer.FlushAsync(CancellationToken.None);
                }
            }
        }

        return path is null ? stdout.ToArray() : await File.ReadAllBytesAsync(path);
    }

    private static TaskContentLease Rented(TaskContent content)
    {
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(content.Length);
        content.Utf8.Span.CopyTo(rented);
        return new TaskContentLease(rented, content.Length);
    }

    private static IEnumerable<(TaskOutcome Outcome, string? RawPluginTarget, string? Error)> Outcomes()
    {
        int i = 0;
        (TaskOutcome, string?, string?) Success(string target, string content, bool base64 = false, int statusCode = 200, string? raw = null)
        {
            i++;
            string job = $"00000000-0000-0000-0000-{i:D12}";
            string task = $"11111111-1111-1111-1111-{i:D12}";
            return (new TaskOutcome
            {
                InputIndex = i,
                Target = target,
                Status = OutcomeStatus.Success,
                JobId = job,
                TaskId = task,
                StatusCode = statusCode,
                Details = new TaskDetails { TaskId = task, JobId = job, Url = target, StatusCode = statusCode, Base64EncodedContent = base64, Content = new TaskContent(Encoding.UTF8.GetBytes(content)) },
            }, raw, null);
        }

        yield return Success("https://golden.example/plain", "<!doctype html><html><head><title>Plain</title></head><body><p>lorem ipsum dolor sit amet</p></body></html>");
        yield return Success("https://golden.example/quotes", "<a href=\"/x?a=1&b=2\" class='c'>it's \"quoted\" & <b>bold</b> \\ back\\slash / slash</a>");
        yield return Success("https://golden.example/unicode", "héllo wörld — “curly” ‘single’ 日本語 한국어 Ελληνικά € ½ \u00a0nbsp \u200b zwsp \u2028 ls \u2029 ps \ufeff bom \ufffd repl 😀 𝄞 emoji");
        yield return Success("https://golden.example/control", "tab\there\nnewline\r\ncrlf\0nul\u0001soh\u001fus\u007fdel\u0080c1\u009fend\b\f");
        yield return Success("https://golden.example/ascii", new string(Enumerable.Range(0x20, 0x5F).Select(c => (char)c).ToArray()));
        yield return Success("https://golden.example/image.png", Convert.ToBase64String(Enumerable.Range(0, 3000).Select(b => (byte)(b * 7)).ToArray()), base64: true);
        yield return Success("https://golden.example/empty", string.Empty);
        yield return Success("https://golden.example/404", "<html><body>Not \"found\"</body></html>", statusCode: 404);
        yield return Success("https://golden.example/q?x=\"1\"&y=<2>&z=é", "ok");
        yield return Success("{\"asin\":\"B0C7BKZ883\",\"geocode\":\"us\"}", "{\"asin\":\"B0C7BKZ883\",\"title\":\"Emulated \\\"product\\\" <b>\",\"price\":{\"value\":12.5}}", raw: "{\"asin\":\"B0C7BKZ883\", \"geocode\":\"us\"}");
        yield return Success("{\"q\":\"é <&>\"}", "{\"organic_results\":[]}", raw: "{\"q\":\"\\u00e9 <&>\"}");

        // Large pages: one past the writer's 16 KiB start, one with many characters to escape, one larger than 256 KiB.
        yield return Success("https://golden.example/large-plain", string.Concat(Enumerable.Repeat("<p>lorem ipsum dolor sit amet scrape async job</p>", 400)));
        yield return Success("https://golden.example/large-quoted", string.Concat(Enumerable.Repeat("<a href=\"/p?id=1&x=2\">link “é” 😀</a>\n\t", 900)));
        yield return Success("https://golden.example/huge", string.Concat(Enumerable.Range(0, 12000).Select(n => $"<div id=\"d{n}\">row {n}</div>")));

        yield return (new TaskOutcome { InputIndex = ++i, Target = "https://golden.example/failed", Status = OutcomeStatus.Failed, Reason = "Task fetch failed: 503 \"Service Unavailable\"\nretry later" }, null, "line 17: Task fetch failed: 503 \"Service Unavailable\"\nretry later");
        yield return (new TaskOutcome { InputIndex = -1, Target = "not a url <é>", Status = OutcomeStatus.Failed, Reason = "not an absolute http(s) URL" }, null, "line 3: not an absolute http(s) URL");
        yield return (new TaskOutcome { InputIndex = ++i, Target = "https://golden.example/error", Status = OutcomeStatus.Error, JobId = "job-e", TaskId = "task-e", StatusCode = 502, Reason = "Emulated failure: the target could not be scraped after all retries." }, null, "Emulated failure: the target could not be scraped after all retries.");
        yield return (new TaskOutcome { InputIndex = ++i, Target = "https://golden.example/canceled", Status = OutcomeStatus.Canceled, JobId = "job-c", TaskId = "task-c" }, null, null);
        yield return (new TaskOutcome { InputIndex = ++i, Target = "https://golden.example/expired", Status = OutcomeStatus.Expired, JobId = "job-x", TaskId = "task-x", StatusCode = 200, Reason = "gone (410)" }, null, "gone (410)");
        yield return (new TaskOutcome { InputIndex = ++i, Target = "{\"bad\":true}", Status = OutcomeStatus.Failed, Reason = "plugin params rejected" }, "{\"bad\" : true }", "line 9: plugin params rejected");

        for (int k = 0; k < 40; k++)
        {
            yield return Success($"https://golden.example/many/{k}", string.Concat(Enumerable.Repeat($"<li class=\"k{k}\">item {k} é</li>", 20 + (k * 5))));
        }
    }
}
