// Starts the browser's download of a hidden DownloadButton's file once its new value is on the page
// (ELEM_ID: the button's elem_id, filled in by `download_js`).
() => { setTimeout(() => {
    const el = document.querySelector('#ELEM_ID');
    (el?.tagName === 'BUTTON' ? el : el?.querySelector('button'))?.click();
}, 50); }
