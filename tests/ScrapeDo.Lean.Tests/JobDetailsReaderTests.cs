using System.Text;
using System.Text.Json;
using CsCheck;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// The hand-written get-job reader must read exactly what the source-generated <c>JobDetails</c> reads: same values,
/// same failures. The generated one is the reference here.
/// </summary>
public class JobDetailsReaderTests
{
    private static readonly string[] Ids = ["00000000-0000-0000-0001-000000000001", "a", "t\u00e9", "x\"y", ""];

    // One JSON value per member, valid or not, so both readers meet the same nulls, wrong types, escapes and ranges.
    private static readonly Gen<string> AnyString = Gen.OneOf(
        Gen.OneOf(Ids).Select(s => JsonSerializer.Serialize(s, ScrapeDoTestJsonContext.Default.String)),
        Gen.OneOf("null", "12", "true", "{}", "[]", "\"\\u0061\"", "\"https://site.example/products/1\""));

    private static readonly Gen<string> AnyStatus = Gen.OneOf("\"success\"", "\"pending\"", "\"succ\\u0065ss\"", "\"new-state\"", "null", "3", "\"\"");

    private static readonly Gen<string> AnyTime = Gen.OneOf("\"2026-11-28T10:00:00Z\"", "\"0001-01-01T00:00:00Z\"", "\"\"", "null", "\"yesterday\"", "5", "\"2026-11-28T10:00:00.123+02:00\"");

    private static readonly Gen<string> AnyInt = Gen.OneOf("0", "5", "-1", "2147483648", "1.5", "1e400", "null", "\"3\"", "true");

    private static readonly Gen<string> AnyBool = Gen.OneOf("true", "false", "null", "0", "\"true\"");

    private static readonly Gen<string> AnyTask = Gen.Frequency(
        (8, Gen.Select(Gen.Int[0, 3], AnyString, AnyString, AnyStatus, Gen.Bool).Select((shape, id, url, status, extra) => shape switch
        {
            0 => $$"""{"TaskID":{{id}},"URL":{{url}},"Status":{{status}}{{(extra ? ",\"Extra\":{\"a\":[1,{\"b\":null}]}" : "")}}}""",
            1 => $$"""{"Status":{{status}},"TaskID":{{id}}}""",
            2 => $$"""{"URL":{{url}},"TaskID":"a","TaskID":{{id}}}""",
            _ => $$"""{"TaskID":{{id}}}""",
        })),
        (1, Gen.OneOf("null", "\"a\"", "[]", "1")));

    private static readonly Gen<string> AnyTaskIds = Gen.Frequency(
        (6, AnyString.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
        (1, Gen.OneOf("null", "{}", "\"a\"")));

    private static readonly Gen<string> AnyTasks = Gen.Frequency(
        (6, AnyTask.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
        (1, Gen.OneOf("null", "{}", "\"a\"")));

    internal static readonly Gen<string> AnyJob = Gen.Select(
        Gen.Select(AnyString, AnyTaskIds, AnyStatus, AnyTime, AnyTime),
        Gen.Select(AnyInt, AnyInt, AnyBool, AnyTasks),
        Gen.Int[0, 255],
        Gen.Bool).Select((a, b, present, shuffle) =>
    {
        var members = new List<string>();
        void Add(int bit, string name, string value)
        {
            if ((present & (1 << bit)) != 0)
            {
                members.Add($"\"{name}\":{value}");
            }
        }

        members.Add($"\"JobID\":{a.Item1}");
        Add(0, "TaskIDs", a.Item2);
        Add(1, "Status", a.Item3);
        Add(2, "StartTime", a.Item4);
        Add(3, "EndTime", a.Item5);
        Add(4, "AcquiredConcurrency", b.Item1);
        Add(5, "LimitConcurrency", b.Item2);
        Add(6, "Canceled", b.Item3);
        Add(7, "Tasks", b.Item4);
        members.Add("\"Unknown\":[{\"x\":1},null]");
        if (shuffle)
        {
            members.Reverse();
        }

        return "{" + string.Join(",", members) + "}";
    });

    [Fact]
    public void Reads_exactly_what_the_generated_reader_reads_on_any_job()
    {
        AnyJob.Sample(json => Assert.Equal(Outcome(json, ScrapeDoJsonContext.Default.JobDetails), Outcome(json, JobDetailsReader.TypeInfo)), iter: 3000);
    }

    [Fact]
    public void Fails_where_the_generated_reader_fails_on_mutated_bytes()
    {
        byte[] seed = Encoding.UTF8.GetBytes("""{"JobID":"j","TaskIDs":["a","b"],"Status":"queued","StartTime":"2026-11-28T10:00:00Z","AcquiredConcurrency":2,"LimitConcurrency":0,"Canceled":false,"Tasks":[{"TaskID":"a","URL":"u","Status":"pending"},{"TaskID":"b","URL":null,"Status":"success"}]}""");
        Gen.Select(Gen.Int[0, seed.Length - 1], Gen.Byte, Gen.Int[0, 2]).Sample((p, value, mode) =>
        {
            byte[] bytes = mode switch
            {
                0 => seed[..p],
                1 => [.. seed[..p], value, .. seed[p..]],
                _ => [.. seed[..p], value, .. seed[(p + 1)..]],
            };
            Assert.Equal(Outcome(bytes, ScrapeDoJsonContext.Default.JobDetails), Outcome(bytes, JobDetailsReader.TypeInfo));
        }, iter: 3000);
    }

    [Fact]
    public void Task_ids_are_shared_between_the_id_list_and_the_tasks_in_either_order()
    {
        var job = JsonSerializer.Deserialize("""{"JobID":"j","TaskIDs":["a","b","c"],"Tasks":[{"TaskID":"a"},{"TaskID":"x"},{"TaskID":"c"}]}""", JobDetailsReader.TypeInfo)!;
        Assert.Same(job.TaskIds[0], job.Tasks[0].TaskId);
        Assert.Equal("x", job.Tasks[1].TaskId);
        Assert.Equal("b", job.TaskIds[1]);
        Assert.Same(job.TaskIds[2], job.Tasks[2].TaskId);

        var reversed = JsonSerializer.Deserialize("""{"Tasks":[{"TaskID":"a"},{"TaskID":"b"}],"TaskIDs":["a","b"],"JobID":"j"}""", JobDetailsReader.TypeInfo)!;
        Assert.Same(reversed.Tasks[1].TaskId, reversed.TaskIds[1]);
    }

    [Fact]
    public void A_reader_that_knows_the_tasks_reads_exactly_what_the_generated_reader_reads_on_any_job()
    {
        // Tables that match some positions and not others, with URLs the generator also writes, escaped or not.
        Gen<KnownTasks> anyTable = Gen.Select(Gen.OneOf(Ids).Array[0, 5], Gen.OneOf<string?>(null, "https://site.example/products/1", "a").Array[0, 5])
            .Select((ids, urls) => new KnownTasks(ids, urls));
        Gen.Select(AnyJob, anyTable).Sample((json, table) =>
            Assert.Equal(Outcome(json, ScrapeDoJsonContext.Default.JobDetails), Outcome(json, JobDetailsReader.For(table))), iter: 3000);
    }

    [Fact]
    public void A_reader_that_knows_the_tasks_shares_their_strings_where_the_values_are_equal()
    {
        string id0 = "00000000-0000-0000-0001-000000000001", url0 = "https://site.example/products/1";
        var table = new KnownTasks([id0, "t\u00e9", "c"], [url0, "https://site.example/a?b=1&c=2", null]);
        // Position 0 as sent; position 1's id escaped on the wire (the same text), its URL with Go's escape of '&';
        // position 2 a different id; position 3 past the table.
        string json = $$"""
            {"JobID":"j","TaskIDs":["{{id0}}","t\u00e9","x","d"],
             "Tasks":[{"TaskID":"{{id0}}","URL":"{{url0}}"},{"TaskID":"t\u00e9","URL":"https://site.example/a?b=1\u0026c=2"},
                      {"TaskID":"x","URL":"https://other.example/"},{"TaskID":"d","URL":"{{url0}}"}]}
            """;
        JobDetails job = JsonSerializer.Deserialize(json, JobDetailsReader.For(table))!;

        Assert.Same(table.Ids[0], job.TaskIds[0]);
        Assert.Same(table.Ids[0], job.Tasks[0].TaskId);
        Assert.Same(table.Urls[0], job.Tasks[0].Url);
        Assert.Same(table.Ids[1], job.TaskIds[1]);
        Assert.Same(table.Urls[1], job.Tasks[1].Url);
        Assert.Equal("x", job.TaskIds[2]);
        Assert.Equal("https://other.example/", job.Tasks[2].Url);
        Assert.Equal("d", job.Tasks[3].TaskId);
        Assert.NotSame(table.Urls[0], job.Tasks[3].Url);
        Assert.Equal(url0, job.Tasks[3].Url);
    }

    /// <summary>A task table for <see cref="JobDetailsReader.For"/>.</summary>
    private sealed class KnownTasks(string[] ids, string?[] urls) : IKnownTasks
    {
        public string[] Ids => ids;

        public string?[] Urls => urls;

        public string? TaskId(int position) => position < ids.Length ? ids[position] : null;

        public string? Url(int position) => position < urls.Length ? urls[position] : null;

        public override string ToString() => $"ids [{string.Join(", ", ids)}], urls [{string.Join(", ", urls)}]";
    }

    [Fact]
    public void A_null_element_in_tasks_is_dropped_not_kept_as_a_null_task()
    {
        var job = JsonSerializer.Deserialize("""{"JobID":"j","TaskIDs":["a","b"],"Tasks":[null,{"TaskID":"a","Status":"success"},null,{"TaskID":"b"}]}""", JobDetailsReader.TypeInfo)!;
        Assert.Equal(["a", "b"], job.Tasks.Select(t => t.TaskId));
        Assert.Equal(ScrapeDoStatus.Success, job.Tasks[0].Status);
    }

    [Fact]
    public async Task Reads_from_a_stream_that_trickles_one_byte_at_a_time()
    {
        byte[] body = Encoding.UTF8.GetBytes("""{"JobID":"j","TaskIDs":["a"],"Status":"success","Tasks":[{"TaskID":"a","URL":"https://a.example/","Status":"success"}],"X":{"deep":[1,2,[3]]}}""");
        var job = await JsonSerializer.DeserializeAsync(new TrickleStream(body), JobDetailsReader.TypeInfo);
        Assert.Equal("j", job!.JobId);
        Assert.Equal("https://a.example/", job.Tasks[0].Url);
        Assert.Equal(ScrapeDoStatus.Success, job.Status);
    }

    [Fact]
    public void Nesting_past_the_context_depth_fails_as_json()
    {
        string json = """{"JobID":"j","X":""" + new string('[', 40) + new string(']', 40) + "}";
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, JobDetailsReader.TypeInfo));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.JobDetails));
    }

    private static string Outcome(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<JobDetails> info) => Outcome(Encoding.UTF8.GetBytes(json), info);

    /// <summary>Everything a caller can observe, as text: the values read, or that it failed as malformed JSON.</summary>
    private static string Outcome(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<JobDetails> info)
    {
        JobDetails? job;
        try
        {
            job = JsonSerializer.Deserialize(json, info);
        }
        catch (JsonException)
        {
            return "malformed";
        }

        if (job is null)
        {
            return "null";
        }

        var text = new StringBuilder();
        text.Append($"{job.JobId}|{string.Join(",", job.TaskIds.Select(t => t ?? "<null>"))}|{job.Status.Value}|{job.StartTime:O}|{job.EndTime:O}|");
        text.Append($"{job.AcquiredConcurrency}|{job.LimitConcurrency}|{job.Canceled}|");
        foreach (TaskSummary? task in job.Tasks)
        {
            // The generated reader keeps a null element as a null task; the hand-written one drops it (tested below).
            if (task is not null)
            {
                text.Append($"{task.TaskId},{task.Url ?? "<null>"},{task.Status.Value};");
            }
        }

        return text.ToString();
    }

    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}

public class UnescaperEdgeTests
{
    [Fact]
    public void Content_with_an_escaped_lone_surrogate_still_parses_with_a_replacement_character()
    {
        // The reader's own unescaping refuses this; the client keeps decoding it as U+FFFD, as it always has.
        var task = JsonSerializer.Deserialize("""{"TaskID":"t","JobID":"j","Content":"a\uD83D b \u003Cp\u003E \uDE00"}""", ScrapeDoJsonContext.Default.TaskDetails)!;
        Assert.Equal("a\uFFFD b <p> \uFFFD", task.GetContentText());
    }

    [Fact]
    public async Task Escaped_content_read_from_a_stream_matches_the_buffered_read()
    {
        string html = string.Concat(Enumerable.Repeat("<p class='x'>caf\u00e9 & \"tea\"</p>\n", 20_000));
        byte[] json = Encoding.UTF8.GetBytes("{\"TaskID\":\"t\",\"JobID\":\"j\",\"Content\":" + JsonSerializer.Serialize(html, ScrapeDoTestJsonContext.Default.String) + "}");
        var buffered = JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.TaskDetails)!;
        var streamed = (await JsonSerializer.DeserializeAsync(new MemoryStream(json), ScrapeDoJsonContext.Default.TaskDetails))!;
        Assert.Equal(html, buffered.GetContentText());
        Assert.Equal(html, streamed.GetContentText());
    }

    [Theory]
    [InlineData(@"\u003Cp\u003E")]
    [InlineData(@"\u003cp\u003e")]
    [InlineData(@"\u0000\u007F\u007f\u0080\u00ff\u00E9")]
    [InlineData(@"\u0041\u0042\u0043")]
    [InlineData(@"a\nb\tc\""d\\e\/f\b\f\r")]
    [InlineData(@"\uD83D\uDE00 \ud83d\ude00")]
    [InlineData(@"\u20AC\u0800\u07FF")]
    [InlineData(@"plain")]
    [InlineData(@"")]
    public void Matches_the_framework_decoder_on_hand_written_escapes(string escaped)
    {
        // Lower- and upper-case hex, the ASCII shortcut's bounds (7F/80), two- to four-byte forms (the framework refuses lone surrogates).
        byte[] json = Encoding.UTF8.GetBytes("\"" + escaped + "\"");
        var reader = new Utf8JsonReader(json);
        reader.Read();
        string expected = reader.GetString()!;
        byte[] ours = JsonUnescaper.Unescape(reader.ValueSpan);
        Assert.Equal(Encoding.UTF8.GetBytes(expected), ours);
    }
}


public sealed class JobStampsReaderTests
{
    [Fact]
    public void A_listing_page_reads_as_the_ids_and_start_times_the_generated_reader_reads_skipping_everything_else()
    {
        string body = """
            {"Jobs":[
              {"JobID":"j1","TaskIDs":["a","b"],"Status":"success","StartTime":"2026-12-07T10:00:00.123Z","Tasks":[{"TaskID":"a","URL":"https://a.example/","Status":"success"},{"TaskID":"b","URL":"https://b.example/","Status":"error"}],"Extra":{"nested":[1,2,{"x":null}]}},
              {"StartTime":null,"JobID":"j2","TaskIDs":[],"Tasks":null,"Status":"queued"},
              {"JobID":"j3","StartTime":"0001-01-01T00:00:00Z"}
            ],"TotalCount":3,"PageSize":10,"PageNumber":1,"TotalPages":4}
            """;

        JobStampsPage stamps = JsonSerializer.Deserialize(body, JobStampsReader.TypeInfo)!;
        JobListPage full = JsonSerializer.Deserialize(body, ScrapeDoJsonContext.Default.JobListPage)!;

        Assert.Equal(4, stamps.TotalPages);
        Assert.Equal(full.TotalPages, stamps.TotalPages);
        Assert.Equal(full.Jobs.Select(j => (j.JobId, j.StartTime)), stamps.Jobs.Select(s => (s.JobId, s.StartTime)));
        Assert.Equal(["j1", "j2", "j3"], stamps.Jobs.Select(s => s.JobId));
        Assert.Null(stamps.Jobs[2].StartTime); // Go's zero time, as the generated reader reads it
    }

    [Theory]
    [InlineData("""{"Jobs":[{"StartTime":"2026-12-07T10:00:00Z"}],"TotalPages":1}""")]
    [InlineData("""{"Jobs":{"JobID":"j1"},"TotalPages":1}""")]
    [InlineData("""{"Jobs":[{"JobID":7}],"TotalPages":1}""")]
    [InlineData("""{"Jobs":[],"TotalPages":"x"}""")]
    [InlineData("""[]""")]
    public void A_page_that_is_not_a_listing_is_refused(string body) =>
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(body, JobStampsReader.TypeInfo));
}
