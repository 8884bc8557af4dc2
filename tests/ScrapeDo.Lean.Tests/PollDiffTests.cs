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
        var lean = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.PollJobAsync("j", diff, CancellationToken.None));
        Assert.Equal(full.IsMalformedResponse, lean.IsMalformedResponse);
        Assert.True(lean.IsMalformedResponse);
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
        string actual = status.Value + "|" + string.Join(";", diff.Finished.Select(f => $"{f.Index}:{f.Status.Value}"));
        return (expected, actual);
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
        try
        {
            JsonSerializer.Deserialize(json, new PollDiff(Table(new bool[TableIds.Length])).TypeInfo);
            return "ok";
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
