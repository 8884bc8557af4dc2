using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Tests;

public class ResponseParsingTests
{
    private static T Parse<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) => JsonSerializer.Deserialize(json, info)!;

    [Fact]
    public void Task_details_parse_every_documented_field_including_the_dotted_key()
    {
        const string json = """
        {"TaskID":"t","JobID":"j","URL":"https://a.example/","Status":"success","StartTime":"2019-08-24T14:15:22Z","EndTime":"2019-08-24T14:15:23Z",
         "ExpiresAt":"2019-08-27T14:15:22Z","UpdateTime":"2019-08-24T14:15:23Z","Base64EncodedContent":false,"StatusCode":200,
         "ResponseHeaders":{"content-type":"text/html"},"Scrape.do":{"Scrape.do-Request-Cost":"1"},"Content":"<p>caf\u00e9 \"q\"</p>",
         "ErrorMessage":"","TraceID":"tr-1","WebhookURL":"https://h.example/","WebhookStatus":"failed","WebhookRequestTime":"2019-08-24T14:16:00Z",
         "SomethingNew":{"nested":[1,2,3]}}
        """;
        var task = Parse(json, ScrapeDoJsonContext.Default.TaskDetails);
        Assert.Equal("t", task.TaskId);
        Assert.Equal("j", task.JobId);
        Assert.Equal(ScrapeDoStatus.Success, task.Status);
        Assert.True(task.Status.IsTerminal);
        Assert.Equal(new DateTimeOffset(2019, 8, 27, 14, 15, 22, TimeSpan.Zero), task.ExpiresAt);
        Assert.Equal(200, task.StatusCode);
        Assert.Equal("text/html", task.ResponseHeaders!["content-type"]);
        Assert.Equal("1", task.ScrapeDoMetadata!["Scrape.do-Request-Cost"]);
        Assert.Equal("<p>café \"q\"</p>", task.GetContentText());
        Assert.Equal(Encoding.UTF8.GetBytes("<p>café \"q\"</p>"), task.GetContentBytes());
        Assert.Equal("tr-1", task.TraceId);
        Assert.Equal(WebhookDeliveryStatus.Failed, task.WebhookStatus);
        Assert.NotNull(task.WebhookRequestTime);
    }

    [Fact]
    public void Job_details_tolerate_go_nulls_zero_time_and_unknown_statuses()
    {
        const string json = """{"JobID":"j","TaskIDs":null,"Status":"paused_for_maintenance","StartTime":"2026-01-01T00:00:00Z","EndTime":"0001-01-01T00:00:00Z","Tasks":null,"AcquiredConcurrency":2,"LimitConcurrency":0,"Canceled":false}""";
        var job = Parse(json, ScrapeDoJsonContext.Default.JobDetails);
        Assert.Empty(job.TaskIds);
        Assert.Empty(job.Tasks);
        Assert.Null(job.EndTime);
        Assert.Equal("paused_for_maintenance", job.Status.Value);
        Assert.False(job.Status.IsTerminal);
        Assert.Equal(2, job.AcquiredConcurrency);
    }

    [Theory]
    [InlineData("queuing", false)]
    [InlineData("queued", false)]
    [InlineData("pending", false)]
    [InlineData("rotating", false)]
    [InlineData("success", true)]
    [InlineData("error", true)]
    [InlineData("canceled", true)]
    [InlineData("cancelled", false)]
    // Issue 10: statuses compare ignoring case (kept as sent), so a server that shouts cannot make a run poll forever.
    [InlineData("SUCCESS", true)]
    public void Status_terminal_set_is_exactly_success_error_canceled(string wire, bool terminal)
    {
        var job = Parse($$"""{"JobID":"j","Status":"{{wire}}"}""", ScrapeDoJsonContext.Default.JobDetails);
        Assert.Equal(wire, job.Status.Value);
        Assert.Equal(terminal, job.Status.IsTerminal);
    }

    [Fact]
    public void Known_statuses_are_cached_instances_and_escaped_values_still_match()
    {
        var job = Parse("""{"JobID":"j","Tasks":[{"TaskID":"a","Status":"success"},{"TaskID":"b","Status":"succ\u0065ss"}]}""", ScrapeDoJsonContext.Default.JobDetails);
        Assert.Same(ScrapeDoStatus.Success.Value, job.Tasks[0].Status.Value);
        Assert.Equal(ScrapeDoStatus.Success, job.Tasks[1].Status);
    }

    [Fact]
    public void List_page_and_cancel_response_parse()
    {
        var page = Parse("""{"Jobs":[{"JobID":"a","Tasks":[{"TaskID":"t","URL":"u","Status":"queued"}]}],"TotalCount":11,"PageSize":10,"PageNumber":1,"TotalPages":2}""", ScrapeDoJsonContext.Default.JobListPage);
        Assert.Equal(11, page.TotalCount);
        Assert.Equal(2, page.TotalPages);
        Assert.Equal("t", page.Jobs[0].Tasks[0].TaskId);

        var cancel = Parse("""{"JobID":"a","Canceled":true,"Status":"canceled","Error":"partially","Code":200}""", ScrapeDoJsonContext.Default.CancelJobResponse);
        Assert.True(cancel.Canceled);
        Assert.Equal("partially", cancel.Error);
    }

    [Theory]
    [InlineData("""{"Message":"no id","TaskIDs":[]}""")]
    [InlineData("""{"JobID":null,"TaskIDs":[]}""")]
    [InlineData("""{"JobID":"","TaskIDs":[]}""")]
    [InlineData("""{"JobID":42,"TaskIDs":[]}""")]
    public void Missing_or_wrong_ids_fail_with_JsonException(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.CreateJobResponse));
    }

    [Fact]
    public async Task Base64_content_decodes_and_copies_identically()
    {
        byte[] payload = new byte[200_003];
        new Random(7).NextBytes(payload);
        string json = $$"""{"TaskID":"t","JobID":"j","Status":"success","Base64EncodedContent":true,"Content":"{{Convert.ToBase64String(payload)}}"}""";
        var task = Parse(json, ScrapeDoJsonContext.Default.TaskDetails);
        Assert.Equal(payload, task.GetContentBytes());
        using var ms = new MemoryStream();
        long written = await task.CopyContentToAsync(ms);
        Assert.Equal(payload.Length, written);
        Assert.Equal(payload, ms.ToArray());
    }

    [Fact]
    public async Task Invalid_base64_content_is_a_FormatException_not_garbage()
    {
        var task = Parse("""{"TaskID":"t","JobID":"j","Base64EncodedContent":true,"Content":"@@@@not base64"}""", ScrapeDoJsonContext.Default.TaskDetails);
        Assert.Throws<FormatException>(() => task.GetContentBytes());
        await Assert.ThrowsAsync<FormatException>(async () => await task.CopyContentToAsync(Stream.Null));
    }

    [Fact]
    public void Account_keeps_the_misspelled_wire_name()
    {
        var me = Parse("""{"ActiveJobs":0,"AvaliableCredits":1000,"AvailableCredits":5,"FreeConcurrency":5,"TotalConcurrency":5}""", ScrapeDoJsonContext.Default.AccountInfo);
        Assert.Equal(1000, me.AvailableCredits);
    }
}
