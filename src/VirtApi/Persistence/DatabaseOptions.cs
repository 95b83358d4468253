namespace VirtApi.Persistence;

/// <summary>The <c>Database</c> section of <c>appsettings.json</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>
    /// The SQLite file. A relative path is taken from the content root (the folder the server is
    /// started in), so <c>data/virtapi.db</c> lands beside the checkout; <c>Database__Path</c> overrides it.
    /// </summary>
    public string Path { get; set; } = "data/virtapi.db";
}
