// The one entry esbuild bundles into templates/static/vendor/uppy.js (an ES module the pages'
// uploader, templates/static/js/uploader.js, imports). Uppy's packages are ES modules that
// import each other by package name, which a browser cannot resolve without a bundler.
export { default as Uppy } from "@uppy/core";
export { default as AwsS3 } from "@uppy/aws-s3";
export { default as GoldenRetriever } from "@uppy/golden-retriever";
