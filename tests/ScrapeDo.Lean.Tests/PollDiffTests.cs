using System.Text;
using System.Text.Json;
using CsCheck;
using RichardSzalay.MockHttp;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// The runner's lean poll must name exactly the tasks the full read followed by <see cref="SnapshotDiff"/> names, and
/// fail exactly where the full read fails. The full read is the reference.
/// </summary>
public class PollDiffTests
{
    // Ids with escapes, non-ASCII and a quote, so the UTF-8 comparison meets what the string comparison meets.
    private static readonly string[] TableIds = ["00000000-0000-0000-0001-000000000001", "t\u00e9", "x\"y", "a/b", "q\\r", "plain", "z\u20ac", "last"];

    private static readonly Gen<string> AnyStatus = Gen.OneOf(
        "\"success\"", "\"pending\"", "\"queued\"", "\"error\"", "\"canceled\"", "\"SUCCESS\"", "\"Canceled\"",
        "\"succ\\u0065ss\"", "\"new-state\"", "\"\"");

    /// <summary>One snapshot of a job whose table holds <see cref="TableIds"/>: a subset, in any order, with unknown tasks mixed in.</summary>
    private static readonly Gen<(string Json, bool[] Claimed)> AnySnapshot = Gen.Select(
        Gen.Int[0, TableIds.Length].SelectMany(n => Gen.Shuffle(Enumerable.Range(0, TableIds.Length).ToArray(), n)),
        AnyStatus.Array[TableIds.Length + 2],
        Gen.Bool.Array[TableIds.Length],
        Gen.Int[0, 3],
        Gen.Bool,
        AnyStatus).Select((order, statuses, claimed, shape, escapeAll, jobStatus) =>
    {
        var entries = new List<string>();
        for (int k = 0; k < order.Length; k++)
        {
            string id = Encode(TableIds[order[k]], escapeAll);
            string url = Encode($"https://site.example/{k}?q=\u00e9&r=\"x\"", escapeAll);
            entries.Add(shape == 1
                ? $$"""{"Status":{{statuses[k]}},"Extra":{"a":[1,{"b":null}]},"URL":{{url}},"TaskID":{{id}}}"""
                : $$"""{"TaskID":{{id}},"URL":{{url}},"Status":{{statuses[k]}}}""");
        }

        if (shape >= 2)
        {
            // Tasks this chunk never created: ignored by both readers.
            entries.Insert(entries.Count / 2, $$"""{"TaskID":"unknown-1","Status":{{statuses[^1]}}}""");
            entries.Add($$"""{"TaskID":"{{new string('k', 300)}}","Status":{{statuses[^2]}}}""");
        }

        string tasks = "[" + string.Join(",", entries) + "]";
        string ids = "[" + string.Join(",", TableIds.Select(t => Encode(t, false))) + "]";
        string json = shape == 3
            ? $$"""{"Tasks":{{tasks}},"Status":{{jobStatus}},"JobID":"j","TaskIDs":{{ids}},"Canceled":false}"""
            : $$"""{"JobID":"j","TaskIDs":{{ids}},"Status":{{jobStatus}},"StartTime":"2026-11-28T10:00:00Z","AcquiredConcurrency":2,"Tasks":{{tasks}}}""";
        return (json, claimed);
    });

    [Fact]
    public void Names_the_same_newly_finished_tasks_and_job_status_as_the_full_read()
    {
        AnySnapshot.Sample(snapshot =>
        {
            (string expected, string actual) = BothReads(Encoding.UTF8.GetBytes(snapshot.Json), snapshot.Claimed);
            Assert.Equal(expected, actual);
        }, iter: 2000);
    }

    [Fact]
    public void Reordered_missing_unknown_and_upper_case_tasks_are_found_by_id()
    {
        string json = """{"JobID":"j","Status":"RUNNING","Tasks":[{"TaskID":"last","Status":"SUCCESS"},{"TaskID":"nobody","Status":"success"},{"TaskID":"t\u00e9","Status":"Canceled"},{"TaskID":"plain","Status":"pending"},{"TaskID":"x\"y","Status":"error"}]}""";
        var diff = Read(json, new bool[TableIds.Length]);
        Assert.Equal([(1, "Canceled"), (2, "error"), (7, "SUCCESS")], diff.Finished.Select(f => (f.Index, f.Status.Value!)));
        Assert.True(diff.Finished[0].Status == ScrapeDoStatus.Canceled);
    }

    [Fact]
    public void Claimed_tasks_are_not_named_again_and_a_second_read_starts_clean()
    {
        var claimed = new bool[TableIds.Length];
        claimed[0] = true;
        var tasks = Table(claimed);
        var diff = new PollDiff(tasks);
        JsonSerializer.Deserialize("""{"JobID":"j","Tasks":[{"TaskID":"00000000-0000-0000-0001-000000000001","Status":"success"},{"TaskID":"plain","Status":"success"}]}""", diff.TypeInfo);
        Assert.Equal([5], diff.Finished.Select(f => f.Index));

        ScrapeDoStatus status = JsonSerializer.Deserialize("""{"JobID":"j","Status":"success","Tasks":[{"TaskID":"plain","Status":"pending"}]}""", diff.TypeInfo);
        Assert.Empty(diff.Finished);
        Assert.True(status.IsTerminal);
    }

    [Fact]
    public void Fails_where_the_full_read_fails_on_any_job()
    {
        // The reader tests' generator: every member valid or not, nulls, wrong types, escapes, missing ids.
        JobDetailsReaderTests.AnyJob.Sample(json =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(json);
            Assert.Equal(FullFails(bytes), LeanFails(bytes));
        }, iter: 3000);
    }

    [Fact]
    public void Fails_where_the_full_read_fails_on_mutated_bytes()
    {
        byte[] seed = Encoding.UTF8.GetBytes("""{"JobID":"j","TaskIDs":["plain","last"],"Status":"queued","StartTime":"2026-11-28T10:00:00Z","AcquiredConcurrency":2,"LimitConcurrency":0,"Canceled":false,"Tasks":[{"TaskID":"plain","URL":"u","Status":"pending"},{"TaskID":"last","URL":null,"Status":"success"}]}""");
        Gen.Select(Gen.Int[0, seed.Length - 1], Gen.Byte, Gen.Int[0, 2]).Sample((p, value, mode) =>
        {
            byte[] bytes = mode switch
            {
                0 => seed[..p],
                1 => [.. seed[..p], value, .. seed[p..]],
                _ => [.. seed[..p], value, .. seed[(p + 1)..]],
            };
            string full = FullFails(bytes);
            Assert.Equal(full, LeanFails(bytes));
            if (full == "ok")
            {
                Assert.Equal(BothReads(bytes, new bool[TableIds.Length]).Expected, BothReads(bytes, new bool[TableIds.Length]).Actual);
            }
        }, iter: 3000);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"job\"")]
    [InlineData("{\"Status\":\"success\"}")]
    [InlineData("{\"JobID\":\"\"}")]
    [InlineData("{\"JobID\":\"j\",\"Tasks\":[{\"Status\":\"success\"}]}")]
    [InlineData("{\"JobID\":\"j\",\"Tasks\":[{\"TaskID\":\"plain\",\"Status\":7}]}")]
    [InlineData("{\"JobID\":\"j\",\"Tasks\":{}}")]
    [InlineData("{\"JobID\":\"j\",\"Status\":null}")]
    [InlineData("{\"JobID\":\"j\",\"Tasks\":[{\"TaskID\":\"plain\"")]
    public void Malformed_bodies_fail_as_json_in_both_reads(string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal("malformed", FullFails(bytes));
        Assert.Equal("malformed", LeanFails(bytes));
    }

    [Fact]
    public async Task Reads_from_a_stream_that_trickles_one_byte_at_a_time()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"JobID":"j","Status":"success","Tasks":[{"TaskID":"plain","URL":"https://a.example/","Status":"success"}],"X":{"deep":[1,2,[3]]}}""");
        var diff = new PollDiff(Table(new bool[TableIds.Length]));
        ScrapeDoStatus status = await JsonSerializer.DeserializeAsync(new TrickleStream(body), diff.TypeInfo);
        Assert.Equal(ScrapeDoStatus.Success, status);
        Assert.Equal([5], diff.Finished.Select(f => f.Index));
    }

    [Fact]
    public async Task A_malformed_poll_body_is_a_malformed_response_api_exception()
    {
        var handler = new MockHttpMessageHandler();
        handler.When("*").Respond("application/json", """{"JobID":"j","Tasks":[{"TaskID":"plain","Status":"success"},]}""");
        using var client = TestSupport.Client(handler);
        var diff = new PollDiff(Table(new bool[TableIds.Length]));
        var full = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j"));
        var lean = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.PollJobAsync("j", diff, CancellationToken.None).AsTask());
        Assert.Equal(full.IsMalformedResponse, lean.IsMalformedResponse);
        Assert.True(lean.IsMalformedResponse);
    }

    /// <summary>
    /// A watch's polls: each body made from the one before (statuses changed, tasks moved, dropped or added, null and
    /// unknown elements, ids escaped or not, spacing and member order changed, now and then a damaged body), so most
    /// task objects recur byte for byte and the memo's skip is taken often.
    /// </summary>
    private static readonly Gen<(byte[][] Bodies, bool[] Claimed)> AnyWatch =
        Gen.Select(Gen.Int, Gen.Int[2, 8], Gen.Bool.Array[TableIds.Length]).Select((seed, polls, claimed) => (Watch(seed, polls), claimed));

    [Fact]
    public void A_diff_that_keeps_its_memo_reads_every_poll_of_a_watch_as_a_fresh_full_read_does()
    {
        int skipped = 0;
        AnyWatch.Sample((bodies, claimed) =>
        {
            using var diff = new PollDiff(Table(claimed));
            foreach (byte[] body in bodies)
            {
                string expected = FullFails(body) == "ok" ? BothReads(body, claimed).Expected : "malformed";
                Assert.Equal(expected, Outcome(() => ReadBuffered(diff, body), diff));
                Interlocked.Add(ref skipped, diff.SkippedTasks);
            }
        }, iter: 1500);

        // Otherwise the property would hold with the skip never taken.
        Assert.True(skipped > 1000, $"only {skipped} task objects were skipped");
    }

    [Fact]
    public void A_repeated_body_is_skipped_whole_and_still_names_only_unclaimed_finished_tasks()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"JobID":"j","TaskIDs":["plain","last","t\u00e9"],"Status":"running","Tasks":[{"TaskID":"plain","Status":"success"},{"TaskID":"last","Status":"pending"},{"TaskID":"t\u00e9","Status":"error"}]}""");
        ChunkTasks tasks = Table(new bool[TableIds.Length]);
        using var diff = new PollDiff(tasks);

        ReadBuffered(diff, body);
        Assert.Equal((0, false), (diff.SkippedTasks, diff.SkippedTaskIds));
        Assert.Equal([1, 5], diff.Finished.Select(f => f.Index));

        tasks.TryClaim(5);
        ReadBuffered(diff, body);
        Assert.Equal((3, true), (diff.SkippedTasks, diff.SkippedTaskIds));
        Assert.Equal([(1, "error")], diff.Finished.Select(f => (f.Index, f.Status.Value!)));
    }

    [Fact]
    public void Only_the_task_that_changed_is_read_again()
    {
        const string Before = """{"JobID":"j","Status":"running","Tasks":[{"TaskID":"plain","Status":"pending"},{"TaskID":"last","Status":"pending"},{"TaskID":"a/b","Status":"queued"}]}""";
        using var diff = new PollDiff(Table(new bool[TableIds.Length]));
        ReadBuffered(diff, Encoding.UTF8.GetBytes(Before));
        Assert.Empty(diff.Finished);

        ScrapeDoStatus status = ReadBuffered(diff, Encoding.UTF8.GetBytes(Before.Replace("""{"TaskID":"last","Status":"pending"}""", """{"TaskID":"last","Status":"success"}""").Replace("running", "success")));
        Assert.Equal(2, diff.SkippedTasks);
        Assert.Equal([(7, "success")], diff.Finished.Select(f => (f.Index, f.Status.Value!)));
        Assert.Equal(ScrapeDoStatus.Success, status);
    }

    [Theory]
    [InlineData("truncated after a task")]
    [InlineData("garbage between tasks")]
    [InlineData("a trailing comma")]
    [InlineData("a second value after the body")]
    [InlineData("a task without its id")]
    public void A_damaged_body_fails_even_where_its_tasks_match_the_memo_and_the_memo_survives_it(string damage)
    {
        const string Good = """{"JobID":"j","Status":"running","Tasks":[{"TaskID":"plain","Status":"success"},{"TaskID":"last","Status":"pending"},{"TaskID":"a/b","Status":"queued"}]}""";
        string damaged = damage switch
        {
            "truncated after a task" => Good[..(Good.IndexOf("},{", StringComparison.Ordinal) + 1)],
            "garbage between tasks" => Good.Replace("},{\"TaskID\":\"last", "}x{\"TaskID\":\"last"),
            "a trailing comma" => Good.Replace("\"queued\"}]", "\"queued\"},]"),
            "a second value after the body" => Good + " {}",
            _ => Good.Replace("{\"TaskID\":\"a/b\",", "{"),
        };
        Assert.NotEqual(Good, damaged);
        using var diff = new PollDiff(Table(new bool[TableIds.Length]));
        ReadBuffered(diff, Encoding.UTF8.GetBytes(Good));

        Assert.Equal("malformed", Outcome(() => ReadBuffered(diff, Encoding.UTF8.GetBytes(damaged)), diff));
        Assert.Equal("malformed", FullFails(Encoding.UTF8.GetBytes(damaged)));

        ReadBuffered(diff, Encoding.UTF8.GetBytes(Good));
        Assert.Equal(3, diff.SkippedTasks);
        Assert.Equal([5], diff.Finished.Select(f => f.Index));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_pipeline_hands_a_poll_body_to_the_memo_path_with_or_without_a_length(bool withLength)
    {
        // Without a length (a Go server sends a large body chunked) it is read to its end through the size limit.
        byte[] body = Encoding.UTF8.GetBytes("""{"JobID":"j","Status":"running","Tasks":[{"TaskID":"plain","Status":"success"},{"TaskID":"last","Status":"pending"}]}""" + new string(' ', 40_000));
        var handler = new MockHttpMessageHandler();
        handler.When("*").Respond(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StreamContent(withLength ? new MemoryStream(body) : new UnknownLengthStream(body)) { Headers = { { "Content-Type", "application/json" } } },
        });
        using var client = TestSupport.Client(handler);
        using var diff = new PollDiff(Table(new bool[TableIds.Length]));

        await client.PollJobAsync("j", diff, CancellationToken.None);
        await client.PollJobAsync("j", diff, CancellationToken.None);

        Assert.Equal(2, diff.SkippedTasks);
        Assert.Equal([5], diff.Finished.Select(f => f.Index));
    }

    /// <summary>A body whose length the client cannot know in advance, handed out in small reads.</summary>
    private sealed class UnknownLengthStream(byte[] data) : Stream
    {
        private int _at;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, 7_000), data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[][] Watch(int seed, int polls)
    {
        var random = new Random(seed);
        string[] statuses = ["\"success\"", "\"pending\"", "\"queued\"", "\"error\"", "\"SUCCESS\"", "\"succ\\u0065ss\"", "\"new-state\""];
        const int Unknown = -1, NullElement = -2;
        var tasks = Enumerable.Range(0, TableIds.Length).OrderBy(_ => random.Next()).Take(random.Next(TableIds.Length + 1))
            .Select(i => (Id: i, Status: statuses[random.Next(statuses.Length)], Escaped: false)).ToList();
        string ids = "[" + string.Join(",", TableIds.Select(t => Encode(t, false))) + "]";
        var bodies = new byte[polls][];
        for (int poll = 0; poll < polls; poll++)
        {
            if (poll > 0)
            {
                for (int k = 0; k < tasks.Count; k++)
                {
                    if (random.Next(5) == 0)
                    {
                        tasks[k] = tasks[k] with { Status = statuses[random.Next(statuses.Length)] };
                    }

                    if (random.Next(20) == 0)
                    {
                        tasks[k] = tasks[k] with { Escaped = !tasks[k].Escaped };
                    }
                }

                if (tasks.Count > 1 && random.Next(4) == 0)
                {
                    int a = random.Next(tasks.Count), b = random.Next(tasks.Count);
                    (tasks[a], tasks[b]) = (tasks[b], tasks[a]);
                }

                if (random.Next(6) == 0)
                {
                    tasks.Insert(random.Next(tasks.Count + 1), (NullElement, "", false));
                }

                if (random.Next(6) == 0)
                {
                    tasks.Insert(random.Next(tasks.Count + 1), (Unknown, statuses[random.Next(statuses.Length)], false));
                }

                if (tasks.Count > 0 && random.Next(6) == 0)
                {
                    tasks.RemoveAt(random.Next(tasks.Count));
                }
            }

            string entries = string.Join(random.Next(4) == 0 ? " ,\n\t" : ",", tasks.Select(t => t.Id switch
            {
                NullElement => "null",
                Unknown => $$"""{"TaskID":"unknown","Status":{{t.Status}}}""",
                _ => $$"""{"TaskID":{{Encode(TableIds[t.Id], t.Escaped)}},"URL":"https://site.example/{{t.Id}}","Status":{{t.Status}}}""",
            }));
            string open = random.Next(4) == 0 ? "[ " : "[";
            string json = random.Next(5) == 0
                ? $$"""{"Tasks":{{open}}{{entries}}],"JobID":"j","TaskIDs":{{ids}},"Status":"running"}"""
                : $$"""{"JobID":"j","TaskIDs":{{ids}},"Status":"running","Tasks":{{open}}{{entries}}]}""";
            byte[] body = Encoding.UTF8.GetBytes(json);
            if (random.Next(6) == 0)
            {
                // A damaged body: the watch retries it and polls on with the memo it had.
                int at = random.Next(body.Length);
                body = random.Next(2) == 0 ? body[..at] : [.. body[..at], (byte)"x,]}\"{ "[random.Next(7)], .. body[(at + 1)..]];
            }

            bodies[poll] = body;
        }

        return bodies;
    }

    private static string Encode(string value, bool escapeAll)
    {
        if (!escapeAll)
        {
            return JsonSerializer.Serialize(value, ScrapeDoTestJsonContext.Default.String);
        }

        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append($"\\u{(int)c:x4}");
        }

        return text.Append('"').ToString();
    }

    private static ChunkTasks Table(bool[] claimed)
    {
        var items = Enumerable.Range(0, TableIds.Length).Select(i => new RunItem(i, $"https://site.example/{i}", null)).ToList();
        var tasks = new ChunkTasks("j", TableIds, items);
        for (int i = 0; i < claimed.Length; i++)
        {
            if (claimed[i])
            {
                tasks.TryClaim(i);
            }
        }

        return tasks;
    }

    private static PollDiff Read(string json, bool[] claimed)
    {
        var diff = new PollDiff(Table(claimed));
        JsonSerializer.Deserialize(json, diff.TypeInfo);
        return diff;
    }

    /// <summary>The full read plus <see cref="SnapshotDiff"/>, and the lean read, each as "status|index:status;…".</summary>
    private static (string Expected, string Actual) BothReads(byte[] json, bool[] claimed)
    {
        JobDetails job = JsonSerializer.Deserialize(json, JobDetailsReader.TypeInfo)!;
        var found = new List<FinishedTask>();
        SnapshotDiff.FindFinished(job.Tasks, Table(claimed), found);
        string expected = job.Status.Value + "|" + string.Join(";", found.Select(f => $"{f.Index}:{f.Status.Value}"));

        var diff = new PollDiff(Table(claimed));
        ScrapeDoStatus status = JsonSerializer.Deserialize(json, diff.TypeInfo);
        string actual = Describe(status, diff);

        // The buffered path (what the pipeline uses when the body has a length) must read the same, with no memo yet.
        using var buffered = new PollDiff(Table(claimed));
        string direct = Describe(ReadBuffered(buffered, json), buffered);
        return (expected, actual == direct ? actual : $"converter {actual} but buffered {direct}");
    }

    private static string Describe(ScrapeDoStatus status, PollDiff diff) =>
        status.Value + "|" + string.Join(";", diff.Finished.Select(f => $"{f.Index}:{f.Status.Value}"));

    /// <summary>The pipeline's buffered call: the body in a pooled buffer the diff may keep as its memo.</summary>
    private static ScrapeDoStatus ReadBuffered(PollDiff diff, byte[] json)
    {
        byte[]? buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(json.Length, 1));
        try
        {
            json.CopyTo(buffer, 0);
            ScrapeDoStatus status = diff.Read(buffer, json.Length, out bool kept);
            buffer = kept ? null : buffer;
            return status;
        }
        finally
        {
            if (buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static string FullFails(byte[] json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, JobDetailsReader.TypeInfo) is null ? "malformed" : "ok";
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "malformed";
        }
    }

    private static string LeanFails(byte[] json)
    {
        string converter = Outcome(() => JsonSerializer.Deserialize(json, new PollDiff(Table(new bool[TableIds.Length])).TypeInfo));
        string buffered = Outcome(() => ReadBuffered(new PollDiff(Table(new bool[TableIds.Length])), json));
        return converter == buffered ? converter : $"converter {converter} but buffered {buffered}";
    }

    private static string Outcome(Func<ScrapeDoStatus> read, PollDiff? describe = null)
    {
        try
        {
            ScrapeDoStatus status = read();
            return describe is null ? "ok" : Describe(status, describe);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "malformed";
        }
    }

    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}
