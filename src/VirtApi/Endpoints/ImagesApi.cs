using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VirtApi.Contracts;
using VirtApi.Images;
using VirtApi.Persistence;
using VirtApi.Persistence.Entities;
using VirtApi.Problems;

namespace VirtApi.Endpoints;

/// <summary>Guest images (<c>/api/v1/images</c>): assembly sources and ELF executables VMs boot from.</summary>
public static class ImagesApi
{
    public static RouteGroupBuilder MapImages(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/images").WithTags("Images");

        group.MapGet("/", ListImages)
            .WithName(nameof(ListImages))
            .WithSummary("List images")
            .WithDescription("Built-in and uploaded images with entry point, segments and symbols, ordered by name.");
        group.MapPost("/", CreateImage)
            .WithName(nameof(CreateImage))
            .WithSummary("Add an image")
            .WithDescription("Assembles asm source (422 assembly-failed lists every error with line and column) or validates an ELF (422 invalid-elf).")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/{id:guid}", GetImage)
            .WithName(nameof(GetImage))
            .WithSummary("Get an image")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/source", GetImageSource)
            .WithName(nameof(GetImageSource))
            .WithSummary("The assembly source of an asm image")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}/content", GetImageContent)
            .WithName(nameof(GetImageContent))
            .WithSummary("The ELF bytes of an image")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteImage)
            .WithName(nameof(DeleteImage))
            .WithSummary("Delete an image")
            .WithDescription("Refused with 409 for built-in images and while a VM uses the image.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Ok<List<ImageResponse>>> ListImages(VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var images = await db.Images.AsNoTracking().OrderBy(i => i.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(images.Select(ImageRules.ToResponse).ToList());
    }

    public static async Task<Results<Created<ImageResponse>, ValidationProblem, ProblemHttpResult>> CreateImage(
        CreateImageRequest request, VirtApiDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var built = ImageRules.Build(request);
        if (built.ValidationErrors is not null)
        {
            return ApiProblem.Validation(built.ValidationErrors);
        }
        if (built.AssemblyErrors is not null)
        {
            return ApiProblem.Unprocessable(
                ProblemCode.AssemblyFailed,
                $"The source has {built.AssemblyErrors.Count} error(s); see errors.",
                new Dictionary<string, object?> { ["errors"] = built.AssemblyErrors });
        }
        if (built.ElfError is not null)
        {
            return ApiProblem.Unprocessable(ProblemCode.InvalidElf, built.ElfError);
        }
        if (await db.Images.AnyAsync(i => i.Name == request.Name, cancellationToken))
        {
            return NameTaken(request.Name!);
        }
        var now = time.GetUtcNow();
        var image = new ImageEntity
        {
            Id = Guid.CreateVersion7(now),
            Name = request.Name!,
            Format = request.Format!.Value,
            Source = request.Source,
            Content = built.Elf!,
            CreatedAt = now,
        };
        db.Images.Add(image);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Lost a race for the name to a concurrent request; the unique index caught it.
            db.ChangeTracker.Clear();
            if (await db.Images.AnyAsync(i => i.Name == request.Name, cancellationToken))
            {
                return NameTaken(request.Name!);
            }
            throw;
        }
        return TypedResults.Created($"/api/v1/images/{image.Id}", ImageRules.ToResponse(image));
    }

    public static async Task<Results<Ok<ImageResponse>, ProblemHttpResult>> GetImage(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        return image is null ? ApiProblem.NotFound("Image", id) : TypedResults.Ok(ImageRules.ToResponse(image));
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetImageSource(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null)
        {
            return ApiProblem.NotFound("Image", id);
        }
        return image.Source is null
            ? ApiProblem.NotFoundDetail($"Image '{image.Name}' was uploaded as an ELF file and has no source; GET .../content gives its bytes.")
            : TypedResults.Text(image.Source, "text/plain", Encoding.UTF8);
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetImageContent(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        return image is null
            ? ApiProblem.NotFound("Image", id)
            : TypedResults.File(image.Content, "application/octet-stream", $"{image.Name}.elf");
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(Guid id, VirtApiDbContext db, CancellationToken cancellationToken)
    {
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (image is null)
        {
            return ApiProblem.NotFound("Image", id);
        }
        if (image.BuiltIn)
        {
            return ApiProblem.Conflict(ProblemCode.ImageReadOnly, $"Image '{image.Name}' is built in and cannot be deleted.");
        }
        var users = await db.Vms.AsNoTracking().Where(v => v.ImageId == id).OrderBy(v => v.Name).Select(v => v.Name).ToListAsync(cancellationToken);
        var snapshots = await db.Snapshots.AsNoTracking().Where(s => s.ImageId == id).OrderBy(s => s.CreatedAt).Select(s => s.Id).ToListAsync(cancellationToken);
        if (users.Count > 0 || snapshots.Count > 0)
        {
            return ApiProblem.Conflict(
                ProblemCode.ImageInUse,
                $"Image '{image.Name}' is used by {users.Count} VM(s){(users.Count > 0 ? ": " + string.Join(", ", users) : "")} and {snapshots.Count} snapshot(s).",
                new Dictionary<string, object?> { ["vms"] = users, ["snapshots"] = snapshots });
        }
        db.Images.Remove(image);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NameTaken(string name) =>
        ApiProblem.Conflict(ProblemCode.ImageNameTaken, $"An image named '{name}' already exists.", new Dictionary<string, object?> { ["name"] = name });
}
