using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

public sealed class ImagesApiTests : IDisposable
{
    private readonly VirtApiFactory _factory = new();
    private readonly HttpClient _client;

    public ImagesApiTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task BuiltInImages_AreListedReadOnly_WithEntryAndSymbols()
    {
        var images = await _client.GetFromJsonAsync<JsonElement>("/api/v1/images");
        var hello = images.EnumerateArray().Single(i => i.GetProperty("name").GetString() == "hello");
        Assert.True(hello.GetProperty("builtIn").GetBoolean());
        Assert.Equal("asm", hello.GetProperty("format").GetString());
        Assert.Equal("0x80000000", hello.GetProperty("entry").GetString());
        Assert.Contains(hello.GetProperty("symbols").EnumerateArray(), s => s.GetProperty("name").GetString() == "_start");
        Assert.Contains(hello.GetProperty("segments").EnumerateArray(), s => s.GetProperty("permissions").GetString() == "r-x");
        Assert.Contains(images.EnumerateArray(), i => i.GetProperty("name").GetString() == "bench-cpu");
        Assert.Contains(images.EnumerateArray(), i => i.GetProperty("name").GetString() == "demo-kernel");
        Assert.Contains(images.EnumerateArray(), i => i.GetProperty("name").GetString() == "dirty-writer");

        var delete = await _client.DeleteAsync($"/api/v1/images/{hello.GetProperty("id").GetGuid()}");
        await delete.ReadProblemAsync(HttpStatusCode.Conflict, "image-read-only");
    }

    [Fact]
    public async Task AsmImage_IsAssembled_AndItsSourceAndElfReadBack()
    {
        var source = GuestSources.ExitWith(0);
        var id = await _client.CreateAsmImageAsync("bye", source);

        var image = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/images/{id}");
        Assert.Equal("bye", image.GetProperty("name").GetString());
        Assert.False(image.GetProperty("builtIn").GetBoolean());
        Assert.Equal(source, await _client.GetStringAsync($"/api/v1/images/{id}/source"));
        var elf = await _client.GetByteArrayAsync($"/api/v1/images/{id}/content");
        Assert.Equal(image.GetProperty("size").GetInt32(), elf.Length);
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], elf[..4]);
    }

    [Fact]
    public async Task AsmImage_WithErrors_Is422ListingEveryLineAndColumn()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/images", new
        {
            name = "broken",
            format = "asm",
            source = ".globl _start\n_start:\n    addi a0, a0\n    frobnicate a1\n    li a2, 1\n",
        });
        var problem = await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity, "assembly-failed");
        var errors = problem.GetProperty("errors").EnumerateArray().ToArray();
        Assert.Equal(2, errors.Length);
        Assert.Equal(3, errors[0].GetProperty("line").GetInt32());
        Assert.Equal(4, errors[1].GetProperty("line").GetInt32());
        Assert.All(errors, e => Assert.True(e.GetProperty("column").GetInt32() >= 1));
        Assert.Contains("frobnicate", errors[1].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain((await _client.GetFromJsonAsync<JsonElement>("/api/v1/images")).EnumerateArray(), i => i.GetProperty("name").GetString() == "broken");
    }

    [Fact]
    public async Task ElfImage_ThatIsNotAnElf_Is422SayingWhy()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/images", new { name = "junk", format = "elf", contentBase64 = Convert.ToBase64String(new byte[64]) });
        var problem = await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity, "invalid-elf");
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task ElfImage_RoundTripsTheBytesOfAnAssembledImage()
    {
        var id = await _client.CreateAsmImageAsync("original", GuestSources.ExitWith(3));
        var elf = await _client.GetByteArrayAsync($"/api/v1/images/{id}/content");
        var response = await _client.PostAsJsonAsync("/api/v1/images", new { name = "uploaded", format = "elf", contentBase64 = Convert.ToBase64String(elf) });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var uploaded = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("elf", uploaded.GetProperty("format").GetString());
        Assert.Equal(elf, await _client.GetByteArrayAsync($"/api/v1/images/{uploaded.GetProperty("id").GetGuid()}/content"));
        var source = await _client.GetAsync($"/api/v1/images/{uploaded.GetProperty("id").GetGuid()}/source");
        await source.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task ImageRequest_WithBadFields_Is400NamingEach()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/images", new { name = "Bad Name", format = "elf", contentBase64 = "%%%" });
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest, "validation-failed");
        Assert.Single(problem.ErrorsFor("name"));
        Assert.Equal(["is not valid base64"], problem.ErrorsFor("contentBase64"));
    }

    [Fact]
    public async Task DeleteImage_WhileAVmUsesIt_Is409NamingTheVm_ThenWorksOnceTheVmIsGone()
    {
        var id = await _client.CreateAsmImageAsync("used", GuestSources.ExitWith(0));
        var vm = await _client.CreateVmAsync(new { name = "user-vm", imageId = id });

        var refused = await _client.DeleteAsync($"/api/v1/images/{id}");
        var problem = await refused.ReadProblemAsync(HttpStatusCode.Conflict, "image-in-use");
        Assert.Equal(["user-vm"], problem.GetProperty("vms").EnumerateArray().Select(v => v.GetString()!).ToArray());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/vms/{vm.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/images/{id}")).StatusCode);
    }
}
