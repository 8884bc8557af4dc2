namespace ScrapeDo.Lean;

/// <summary>Keys of the plugins named by the Async API documentation.</summary>
public static class PluginKeys
{
    /// <summary>Amazon product detail page.</summary>
    public const string AmazonProductDetail = "amazon/pdp";

    /// <summary>Amazon search results.</summary>
    public const string AmazonSearch = "amazon/search";

    /// <summary>Amazon offer listing of a product.</summary>
    public const string AmazonOfferListing = "amazon/offer-listing";

    /// <summary>Raw HTML of any Amazon URL.</summary>
    public const string AmazonRaw = "amazon/";

    /// <summary>Google search results page.</summary>
    public const string GoogleSearch = "google/search";

    /// <summary>Google Trends.</summary>
    public const string GoogleTrends = "google/trends";

    /// <summary>
    /// The parameters a documented plugin cannot run without, null for any other key. From the sync plugin docs
    /// (async-api.md §9.3, "req"); that the async API requires the same is inferred, and this is the one place the
    /// choice lives. The runner turns away a parameter set missing one with its own <c>failed</c> outcome, because the
    /// server refuses a whole job for one such set: one bad line would fail up to 999 good ones with it.
    /// </summary>
    internal static string[]? RequiredParameters(string key) => key switch
    {
        AmazonProductDetail or AmazonOfferListing => ["asin", "geocode", "zipcode"],
        AmazonSearch => ["keyword", "geocode", "zipcode"],
        AmazonRaw => ["url"],
        GoogleSearch or GoogleTrends => ["q"],
        _ => null,
    };
}

/// <summary>Typed parameter sets for the Amazon plugins (names as in the sync plugin docs).</summary>
public static class AmazonPlugin
{
    /// <summary>Parameters of <c>amazon/pdp</c>.</summary>
    public static PluginParams ProductDetail(string asin, string geocode, string zipcode, bool? super = null, string? language = null, bool? includeHtml = null) =>
        PluginParams.Create()
            .Add("asin", PluginParams.Required(asin, "asin"))
            .Add("geocode", PluginParams.Required(geocode, "geocode"))
            .Add("zipcode", PluginParams.Required(zipcode, "zipcode"))
            .Add("super", super).Add("language", language).Add("include_html", includeHtml)
            .Build();

    /// <summary>Parameters of <c>amazon/search</c>.</summary>
    public static PluginParams Search(string keyword, string geocode, string zipcode, int? page = null, bool? super = null, string? language = null, bool? includeHtml = null)
    {
        if (page is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, "Amazon search page starts at 1.");
        }

        return PluginParams.Create()
            .Add("keyword", PluginParams.Required(keyword, "keyword"))
            .Add("geocode", PluginParams.Required(geocode, "geocode"))
            .Add("zipcode", PluginParams.Required(zipcode, "zipcode"))
            .Add("page", page).Add("super", super).Add("language", language).Add("include_html", includeHtml)
            .Build();
    }

    /// <summary>Parameters of <c>amazon/offer-listing</c>.</summary>
    public static PluginParams OfferListing(string asin, string geocode, string zipcode, bool? super = null, bool? includeHtml = null) =>
        PluginParams.Create()
            .Add("asin", PluginParams.Required(asin, "asin"))
            .Add("geocode", PluginParams.Required(geocode, "geocode"))
            .Add("zipcode", PluginParams.Required(zipcode, "zipcode"))
            .Add("super", super).Add("include_html", includeHtml)
            .Build();

    /// <summary>Parameters of <c>amazon/</c> (raw HTML of an Amazon URL).</summary>
    public static PluginParams Raw(string url, string? geocode = null, string? zipcode = null, bool? super = null, string? language = null, int? timeoutMilliseconds = null)
    {
        if (!Uri.TryCreate(PluginParams.Required(url, "url"), UriKind.Absolute, out Uri? parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"Amazon raw url '{url}' must be an absolute http(s) URL.", nameof(url));
        }

        return PluginParams.Create()
            .Add("url", url).Add("geocode", geocode).Add("zipcode", zipcode)
            .Add("output", "html").Add("super", super).Add("language", language).Add("timeout", timeoutMilliseconds)
            .Build();
    }
}

/// <summary>Typed parameter sets for <c>google/search</c>.</summary>
public static class GoogleSearchPlugin
{
    /// <summary>Parameters of a Google search.</summary>
    /// <param name="query">The query (<c>q</c>). Required.</param>
    /// <param name="country">Country (<c>gl</c>).</param>
    /// <param name="language">Interface language (<c>hl</c>).</param>
    /// <param name="googleDomain">Google domain, e.g. <c>google.co.uk</c>.</param>
    /// <param name="start">Result offset.</param>
    /// <param name="resultsPerPage">Results per page (<c>num</c>).</param>
    /// <param name="timePeriod"><c>last_hour</c>, <c>last_day</c>, <c>last_week</c>, <c>last_month</c> or <c>last_year</c>.</param>
    /// <param name="device"><c>desktop</c> or <c>mobile</c>.</param>
    /// <param name="includeHtml">Embed the raw HTML.</param>
    /// <param name="location">Location name.</param>
    public static PluginParams Query(string query, string? country = null, string? language = null, string? googleDomain = null, int? start = null,
        int? resultsPerPage = null, string? timePeriod = null, string? device = null, bool? includeHtml = null, string? location = null)
    {
        if (start is < 0 || resultsPerPage is < 1)
        {
            throw new ArgumentOutOfRangeException(start is < 0 ? nameof(start) : nameof(resultsPerPage), "Google search start must be >= 0 and num >= 1.");
        }

        return PluginParams.Create()
            .Add("q", PluginParams.Required(query, "q"))
            .Add("gl", country).Add("hl", language).Add("google_domain", googleDomain)
            .Add("start", start).Add("num", resultsPerPage).Add("time_period", timePeriod)
            .Add("device", device).Add("include_html", includeHtml).Add("location", location)
            .Build();
    }
}

/// <summary>Typed parameter sets for <c>google/trends</c>.</summary>
public static class GoogleTrendsPlugin
{
    /// <summary>Parameters of a Google Trends query.</summary>
    /// <param name="query">One term, or several separated by commas for a comparison (<c>q</c>). Required.</param>
    /// <param name="geo">Country or region code; null or empty for worldwide.</param>
    /// <param name="language">Interface language (<c>hl</c>).</param>
    /// <param name="date">Range such as <c>today 3-m</c> or <c>today 12-m</c>.</param>
    /// <param name="dataType">Data type such as <c>TIMESERIES</c>.</param>
    public static PluginParams Query(string query, string? geo = null, string? language = null, string? date = null, string? dataType = null) =>
        PluginParams.Create()
            .Add("q", PluginParams.Required(query, "q"))
            .Add("geo", geo).Add("hl", language).Add("date", date).Add("data_type", dataType)
            .Build();
}
